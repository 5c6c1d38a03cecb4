"""Smoke test of the Python package that jsii-pacmak builds (dist/python/*.whl).

Run it in a virtualenv where that wheel is installed, from any directory:

    python test/packaging/python/smoke.py [REPO_ROOT]

REPO_ROOT (default: three levels above this file) holds examples/fleet/. The jsii runtime
starts `node` from PATH: run it under a current Node, e.g. `npx -y -p node@22 -- python ...`.
The last line is `python smoke: N passed, M failed`; the exit code is 1 when M > 0.
"""

import os
import sys
import traceback

ROOT = os.path.abspath(
    sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..")
)
FLEET = os.path.join(ROOT, "examples", "fleet")
ACME = os.path.join(FLEET, "customers", "acme-production.yaml")


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def test_load_customer_file():
    from cdk_paas_vending import ConfigLoader, DatabaseEngine

    config = ConfigLoader.load_customer_file(ACME)
    check(config.customer == "acme", f"customer is {config.customer!r}; expected 'acme'")
    check(config.environment == "production", f"environment is {config.environment!r}; expected 'production'")
    check(config.compute is not None, "compute is missing")
    check(config.compute.min_capacity == 2, f"compute.min_capacity is {config.compute.min_capacity!r}; expected 2")
    check(config.database is not None, "database is missing")
    engine = config.database.engine
    check(
        engine == DatabaseEngine.POSTGRES or getattr(engine, "value", engine) == "postgres",
        f"database.engine is {engine!r}; expected DatabaseEngine.POSTGRES",
    )
    owner = config.software_delivery.repository.owner
    check(owner == "acme", f"software_delivery.repository.owner is {owner!r}; expected 'acme'")
    # The platform is an optional keyword argument (an options struct flattened by jsii).
    platform = ConfigLoader.load_platform_file(os.path.join(FLEET, "platform.yaml"))
    with_platform = ConfigLoader.load_customer_file(ACME, platform=platform)
    check(
        with_platform.hostname == "acme-production.apps.example.com",
        f"hostname is {with_platform.hostname!r}; expected 'acme-production.apps.example.com'",
    )


def test_load_fleet():
    from cdk_paas_vending import ConfigLoader

    files = [
        name
        for name in os.listdir(os.path.join(FLEET, "customers"))
        if not name.startswith(".") and name.lower().endswith((".yaml", ".yml", ".json"))
    ]
    fleet = ConfigLoader.load_fleet(FLEET)
    check(
        len(fleet.customers) == len(files),
        f"load_fleet returned {len(fleet.customers)} customers; expected {len(files)} (files in customers/)",
    )
    check(fleet.platform is not None, "fleet.platform is missing")
    check(
        "acme" in [c.customer for c in fleet.customers],
        f"customers are {[c.customer for c in fleet.customers]}; expected acme among them",
    )


def test_invalid_input_raises():
    from cdk_paas_vending import ConfigLoader

    with open(ACME, encoding="utf-8") as f:
        text = f.read()
    check("minCapacity: 2" in text, "acme-production.yaml no longer has 'minCapacity: 2'; update this test")
    bad = text.replace("minCapacity: 2", 'minCapacity: "two"')
    try:
        ConfigLoader.parse_customer(bad, "bad.yaml")
    except Exception as e:  # the jsii runtime raises the JavaScript error as a Python exception
        message = str(e)
        check("Invalid config" in message, f"message lacks 'Invalid config': {message}")
        check("compute.minCapacity" in message, f"message lacks the field path 'compute.minCapacity': {message}")
        check("expected" in message, f"message lacks 'expected': {message}")
        check("bad.yaml:" in message, f"message lacks the source name 'bad.yaml:': {message}")
        return
    raise AssertionError("parse_customer accepted minCapacity: \"two\"; expected an exception")


def resources_of_type(template, resource_type):
    """The resources of a synthesized template (a dict) of one CloudFormation type, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def test_shared_platform_and_rule_synth():
    import json
    import tempfile

    import aws_cdk as cdk
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_elasticloadbalancingv2 as elbv2
    from cdk_paas_vending import ConfigLoader, PriorityAllocator, SharedAlbRule, SharedPlatform

    env = cdk.Environment(account="123456789012", region="eu-west-1")
    with tempfile.TemporaryDirectory(prefix="paas-smoke-") as outdir:
        app = cdk.App(outdir=outdir)

        platform_stack = cdk.Stack(app, "Platform", env=env)
        platform = SharedPlatform(
            platform_stack,
            "Platform",
            platform_name="acme",
            production=True,
            certificate=acm.Certificate.from_certificate_arn(
                platform_stack,
                "Wildcard",
                "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
            ),
        )

        customer_stack = cdk.Stack(app, "Customer", env=env)
        target_group = elbv2.ApplicationTargetGroup(
            customer_stack, "TargetGroup", vpc=platform.vpc, port=80, protocol=elbv2.ApplicationProtocol.HTTP
        )
        SharedAlbRule(
            customer_stack,
            "Rule",
            listener=platform.https_listener,
            allocator=platform.allocator,
            host_headers=["acme.apps.example.com"],
            target_group=target_group,
            tags={"customer": "acme"},
            rule_limit=150,
        )

        # The example platform through fromConfig, in a stack of the config's account and region: the loaded
        # config goes in as it is (the trailing options struct is what jsii turns into keyword arguments).
        config = ConfigLoader.load_platform_file(os.path.join(FLEET, "platform.yaml"))
        config_stack = cdk.Stack(
            app, "ConfigPlatform", env=cdk.Environment(account=config.account, region=config.region)
        )
        from_config = SharedPlatform.from_config(config_stack, "Platform", config, publish_parameters=True)
        validated = ConfigLoader.validate_platform(config)
        check(validated.name == config.name, f"validate_platform gave name {validated.name!r}; expected {config.name!r}")
        check(
            from_config.platform_name == config.name,
            f"fromConfig platform_name is {from_config.platform_name!r}; expected {config.name!r} (the config's name)",
        )
        check(
            from_config.production is (config.environment == "production"),
            f"fromConfig production is {from_config.production!r}; expected {config.environment == 'production'} "
            f"(environment {config.environment!r})",
        )

        # A customer stack that finds the allocator through its SSM parameter, as a stack of another app would.
        imported_stack = cdk.Stack(app, "ImportedCustomer", env=env)
        parameter_name = SharedPlatform.allocator_parameter_name("acme")
        check(
            parameter_name == "/vending/acme/priority-allocator-arn",
            f"allocator_parameter_name('acme') is {parameter_name!r}; expected '/vending/acme/priority-allocator-arn'",
        )
        imported = PriorityAllocator.from_parameter(imported_stack, "Imported", parameter_name)
        SharedAlbRule(
            imported_stack,
            "Rule",
            listener=platform.https_listener,
            allocator=imported,
            host_headers=["acme-staging.apps.example.com"],
            target_group=elbv2.ApplicationTargetGroup(
                imported_stack, "TargetGroup", vpc=platform.vpc, port=80, protocol=elbv2.ApplicationProtocol.HTTP
            ),
        )

        assembly = app.synth()

        def template(stack):
            path = assembly.get_stack_by_name(stack.stack_name).template_full_path
            with open(path, encoding="utf-8") as f:
                return json.load(f)

        customer = template(customer_stack)
        rules = resources_of_type(customer, "Custom::SharedAlbRulePriority")
        check(
            len(rules) == 1,
            f"customer stack has {len(rules)} Custom::SharedAlbRulePriority resources ({sorted(rules)}); expected 1",
        )
        properties = next(iter(rules.values())).get("Properties", {})
        check(
            properties.get("ruleLimit") == 150,
            f"the rule's ruleLimit is {properties.get('ruleLimit')!r}; expected 150",
        )
        expected_tags = [{"Key": "customer", "Value": "acme"}]
        check(
            properties.get("tags") == expected_tags,
            f"the rule's tags are {json.dumps(properties.get('tags'))}; expected {json.dumps(expected_tags)}",
        )
        functions = resources_of_type(customer, "AWS::Lambda::Function")
        check(not functions, f"customer stack has AWS::Lambda::Function resources {sorted(functions)}; expected none")

        imported_template = template(imported_stack)
        rules = resources_of_type(imported_template, "Custom::SharedAlbRulePriority")
        check(
            len(rules) == 1,
            f"imported-allocator stack has {len(rules)} Custom::SharedAlbRulePriority resources ({sorted(rules)}); "
            "expected 1",
        )
        token = next(iter(rules.values())).get("Properties", {}).get("ServiceToken")
        parameter = imported_template.get("Parameters", {}).get(token.get("Ref")) if isinstance(token, dict) else None
        check(
            parameter is not None and parameter.get("Default") == parameter_name,
            f"the imported rule's ServiceToken is {json.dumps(token)} (parameter {json.dumps(parameter)}); expected a "
            f"Ref to an SSM parameter whose Default is {parameter_name}",
        )
        functions = resources_of_type(imported_template, "AWS::Lambda::Function")
        check(
            not functions,
            f"imported-allocator stack has AWS::Lambda::Function resources {sorted(functions)}; expected none",
        )

        for stack in (platform_stack, config_stack):
            functions = resources_of_type(template(stack), "AWS::Lambda::Function")
            kinds = sorted(
                kind
                for kind in ("PriorityAllocatorFunction", "EnvironmentResourcesFunction")
                if any(kind in logical_id for logical_id in functions)
            )
            check(
                len(functions) == 2 and len(kinds) == 2,
                f"stack {stack.stack_name} has {len(functions)} AWS::Lambda::Function resources ({sorted(functions)}); "
                "expected 2 (the priority allocator and the environment-resources function)",
            )
            for logical_id, function in sorted(functions.items()):
                runtime = function.get("Properties", {}).get("Runtime")
                check(
                    runtime == "nodejs24.x",
                    f"the function {logical_id} of stack {stack.stack_name} has Runtime {runtime!r}; "
                    "expected 'nodejs24.x'",
                )


def test_customer_environment_in_its_own_app():
    """One environment in an app of its own, on the platform's published contract (PlatformReference), is the same
    template as that stack of the whole fleet, and imports nothing from another stack."""
    import json
    import tempfile

    import aws_cdk as cdk
    from cdk_paas_vending import ConfigLoader, CustomerEnvironment, PlatformReference, VendingFleet

    platform = ConfigLoader.load_platform_file(os.path.join(FLEET, "platform.yaml"))
    templates = {}
    for label in ("own-app", "fleet"):
        with tempfile.TemporaryDirectory(prefix="paas-smoke-") as outdir:
            app = cdk.App(outdir=outdir)
            if label == "own-app":
                config = ConfigLoader.load_customer_file(
                    os.path.join(FLEET, "customers", "acme-staging.yaml"), platform=platform
                )
                CustomerEnvironment(
                    app, "acme-staging", config=config, platform=PlatformReference.from_config(platform)
                )
            else:
                fleet = VendingFleet.from_directory(app, FLEET, frozen_placement=True, stacks=["acme-staging"])
                names = [e.stack_name for e in fleet.environments]
                check(names == ["acme-staging"], f"the fleet built {names}; expected only ['acme-staging']")
                check(fleet.platform_stack is None, "the fleet built its platform stack; expected it left out")
            assembly = app.synth()
            check(
                [s.stack_name for s in assembly.stacks] == ["acme-staging"],
                f"{label}: stacks {[s.stack_name for s in assembly.stacks]}; expected ['acme-staging']",
            )
            with open(assembly.get_stack_by_name("acme-staging").template_full_path, encoding="utf-8") as f:
                templates[label] = json.load(f)
    text = json.dumps(templates["own-app"])
    check("Fn::ImportValue" not in text, "the environment in its own app holds an Fn::ImportValue; expected none")
    check(
        templates["own-app"]["Parameters"]["PlatformVpcId"]["Default"] == "/vending/vending/v1/vpc/id",
        "the environment does not read the VPC id from the platform contract's /vending/vending/v1/vpc/id",
    )
    check(templates["own-app"] == templates["fleet"], "the environment in its own app differs from the fleet's stack")


def main():
    tests = [
        test_load_customer_file,
        test_load_fleet,
        test_invalid_input_raises,
        test_shared_platform_and_rule_synth,
        test_customer_environment_in_its_own_app,
    ]
    passed = failed = 0
    for test in tests:
        try:
            test()
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__}", flush=True)
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {test.__name__}", flush=True)
    print(f"python smoke: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
