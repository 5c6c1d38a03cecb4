#!/bin/bash
# Provisioning script of the customer's AMI, run by Packer (as root) on an Amazon Linux 2023 build
# instance: everything every instance of the environment needs before CodeDeploy installs the site.
# The AMI pipeline passes VENDING_CUSTOMER, VENDING_ENVIRONMENT, VENDING_BUILD_NUMBER and
# VENDING_COMMIT_ID.
set -euo pipefail

echo "provision: ${VENDING_CUSTOMER:-?}/${VENDING_ENVIRONMENT:-?} build ${VENDING_BUILD_NUMBER:-?} (${VENDING_COMMIT_ID:-?})"

# Security updates of the base image, then the web server the site's hooks manage.
dnf upgrade -y --security
dnf install -y httpd mod_ssl
systemctl enable httpd

# Until the first deployment, the load balancer's health check finds a page.
install -d -m 0755 /var/www/html
printf 'ok image\n' > /var/www/html/health

# Package caches do not belong in the image.
dnf clean all
