#!/usr/bin/env python3
"""A whole fleet as a CDK app: the platform stack and one stack per customer file.

    cdk synth                                   the bundled example fleet (../fleet)
    VENDING_FLEET_DIR=/path/to/fleet cdk synth
    python3 app.py /path/to/fleet               (without the CDK CLI; writes cdk.out/)
"""

import os
import sys

from aws_cdk import App
from cdk_paas_vending import VendingFleet

# A directory with platform.yaml and customers/*.yaml: the first argument, else $VENDING_FLEET_DIR,
# else the example fleet next to this directory.
fleet_directory = (
    sys.argv[1]
    if len(sys.argv) > 1
    else os.environ.get("VENDING_FLEET_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fleet"))
)

app = App()
VendingFleet.from_directory(app, fleet_directory)
app.synth()
