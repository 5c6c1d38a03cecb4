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


def main():
    tests = [test_load_customer_file, test_load_fleet, test_invalid_input_raises]
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
