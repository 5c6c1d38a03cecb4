#!/usr/bin/env python3
"""The TypeScript, Python and Java example apps (examples/<language>/) on the packages built from this
repository, and a check that all three synthesize the same CloudFormation templates.

Run it from anywhere, under Node 22 (ts-node and the jsii runtimes of Python and Java start `node` from
PATH), after `npx projen package-all`:

    npx -y -p node@22 -- python3 scripts/example-parity.py [--out DIR] [--venv DIR] \
        [--tarball TGZ] [--wheel WHL] [--java-repo DIR] [--java-version V]

  1. checks that the three examples pin the same aws-cdk-lib (package.json, requirements.txt, pom.xml);
  2. TypeScript: copies examples/typescript/ to OUT/typescript-app, `npm install`s the tarball from dist/js
     there (the published npm package, not lib/: the package's files list, bundled dependencies and
     peer dependencies are part of what is checked) and runs the app command of its cdk.json;
  3. Python: installs requirements.txt and the wheel from dist/python into VENV (created when missing;
     .ci/run passes the smoke test's) and runs the app command of cdk.json with VENV/bin first on PATH;
  4. Java: runs the app command of cdk.json (Maven) on the jar in dist/java (a Maven repository);
  each with CDK_OUTDIR=OUT/<language>.cdk.out and the context the CDK CLI passes (CLI_CONTEXT), on
  examples/fleet (Python and Java by default, TypeScript through $VENDING_FLEET_DIR); no AWS credentials
  or CDK CLI are needed;
  5. compares the cloud assemblies: every *.template.json, equal after normalize(); per stack, the
     warnings and errors in manifest.json; the context lookups left unresolved (the VPC's placeholder
     AZs); the aws-cdk-lib and cdk-paas-vending versions each app ran with (tree.json);
  6. examples/standalone/ (one customer environment in an app of its own, on the platform's published
     contract): runs it on the same npm package for each of STANDALONE_STACKS and checks that its template
     equals that stack's template from the TypeScript fleet app.

Or compare cloud assemblies that exist already (the first is the reference):

    python3 scripts/example-parity.py --compare typescript=DIR python=DIR java=DIR

The last line is `examples smoke: N passed, M failed`, one check per stack template; the exit code is 1
when anything failed (a run, a version check or a template).
"""

import argparse
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EXAMPLES = os.path.join(ROOT, "examples")
FLEET = os.path.join(EXAMPLES, "fleet")
MAX_DIFFS = 20  # differences printed per stack and language pair
LOG_TAIL = 60  # lines of a failed command's output printed


class Failure(Exception):
    """A run or check that failed, with a message for a person."""


def say(message=""):
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------------
def pinned_cdk_versions():
    """The aws-cdk-lib version each example pins: {language: version or a description of the problem}."""
    versions = {}
    with open(os.path.join(EXAMPLES, "typescript", "package.json"), encoding="utf-8") as f:
        versions["typescript"] = json.load(f).get("dependencies", {}).get("aws-cdk-lib", "(not a dependency)")
    with open(os.path.join(EXAMPLES, "python", "requirements.txt"), encoding="utf-8") as f:
        pins = [m.group(1) for m in (re.match(r"aws-cdk-lib\s*==\s*(\S+)\s*$", l) for l in f) if m]
    versions["python"] = pins[0] if len(pins) == 1 else "(no single 'aws-cdk-lib==X' line)"
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    pom = ET.parse(os.path.join(EXAMPLES, "java", "pom.xml")).getroot()
    versions["java"] = pom.findtext("m:properties/m:cdk.version", default="(no cdk.version property)", namespaces=ns)
    return versions


def check_pinned_versions():
    versions = pinned_cdk_versions()
    exact = all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in versions.values())
    if not exact or len(set(versions.values())) != 1:
        raise Failure(
            "the examples must pin one exact aws-cdk-lib version (templates differ between versions): "
            + ", ".join(f"{lang} {v}" for lang, v in versions.items())
            + " (examples/typescript/package.json, examples/python/requirements.txt, examples/java/pom.xml cdk.version)"
        )
    version = versions["typescript"]
    say(f"aws-cdk-lib {version} pinned in all three examples")
    return version


def construct_versions(assembly):
    """{library: version} of the constructs in an assembly's tree.json (aws-cdk-lib, cdk-paas-vending)."""
    found = {}
    tree_file = os.path.join(assembly, "tree.json")
    if not os.path.exists(tree_file):
        return found
    with open(tree_file, encoding="utf-8") as f:
        stack = [json.load(f).get("tree", {})]
    while stack:
        node = stack.pop()
        info = node.get("constructInfo") or {}
        library = (info.get("fqn") or "").split(".", 1)[0]
        if library in ("aws-cdk-lib", "cdk-paas-vending") and info.get("version"):
            found.setdefault(library, set()).add(info["version"])
        stack.extend((node.get("children") or {}).values())
    return {library: ", ".join(sorted(v)) for library, v in found.items()}


# ---------------------------------------------------------------------------------------------------
# Running the apps
# ---------------------------------------------------------------------------------------------------
def run(cmd, cwd, env, log, what):
    """Runs cmd (a list, or a string for the shell) with its output in log; on failure raises with the
    output's last lines."""
    shown = cmd if isinstance(cmd, str) else shlex.join(cmd)
    say(f"+ (cd {os.path.relpath(cwd, ROOT) if cwd.startswith(ROOT) else cwd} && {shown})")
    with open(log, "ab") as out:
        shell = isinstance(cmd, str)
        rc = subprocess.run(
            cmd, shell=shell, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        ).returncode
    if rc != 0:
        with open(log, encoding="utf-8", errors="replace") as f:
            # Debian's Maven 3.8 writes colour resets even with -Dstyle.color=never.
            tail = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in f.read().splitlines()[-LOG_TAIL:]]
        raise Failure(f"{what}: '{shown}' failed with exit code {rc}; its output ends with:\n  " + "\n  ".join(tail))


def app_command(language, *extra):
    """The app command of an example's cdk.json, with extra arguments: a shell command, as the CDK CLI runs it."""
    with open(os.path.join(EXAMPLES, language, "cdk.json"), encoding="utf-8") as f:
        command = json.load(f)["app"]
    return " ".join([command, *(shlex.quote(arg) for arg in extra)])


# The context the AWS CDK CLI gives every app it runs (`cdk synth`): construct paths and asset paths in each
# resource's Metadata, and version reporting (the CDKMetadata resource). The apps run with it so that what is
# compared is what `cdk synth` and `cdk deploy` would produce; a developer's own CDK_CONTEXT_JSON is replaced.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
}


def app_env(outdir, path_first=None, fleet=None):
    env = dict(os.environ)
    env["CDK_CONTEXT_JSON"] = json.dumps(CLI_CONTEXT)
    env["CDK_OUTDIR"] = outdir
    # Without it each app takes its default, ../fleet next to its directory (examples/fleet).
    env.pop("VENDING_FLEET_DIR", None)
    if fleet:
        env["VENDING_FLEET_DIR"] = fleet
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if path_first:
        env["PATH"] = path_first + os.pathsep + env.get("PATH", "")
    return env


def copy_typescript_app(example, out):
    """A fresh copy of examples/<example>/ (a TypeScript app) in OUT/<example>-app; returns its path."""
    app = os.path.join(out, f"{example}-app")
    shutil.rmtree(app, ignore_errors=True)
    os.makedirs(app)
    for name in ("app.ts", "cdk.json", "package.json", "tsconfig.json"):
        shutil.copy(os.path.join(EXAMPLES, example, name), app)
    return app


def run_typescript(out, tarball):
    app = copy_typescript_app("typescript", out)
    log = os.path.join(out, "typescript.log")
    # The copy is not next to examples/fleet: the one app that reads $VENDING_FLEET_DIR.
    env = app_env(os.path.join(out, "typescript.cdk.out"), fleet=FLEET)
    npm = ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"]
    npm.append(os.path.abspath(tarball))
    run(npm, app, env, log, "typescript: installing the example's dependencies and the npm package")
    run(app_command("typescript"), app, env, log, "typescript: the app (cdk.json)")
    return env["CDK_OUTDIR"]


# One environment on dedicated ingress and one on shared ingress.
STANDALONE_STACKS = ("acme-production", "acme-staging")


def run_standalone(out, tarball):
    """examples/standalone/ on the npm package, once per stack of STANDALONE_STACKS: {stack: assembly dir}."""
    app = copy_typescript_app("standalone", out)
    log = os.path.join(out, "standalone.log")
    npm = ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", os.path.abspath(tarball)]
    run(npm, app, app_env(os.path.join(out, "standalone.npm")), log, "standalone: installing the npm package")
    assemblies = {}
    for stack in STANDALONE_STACKS:
        env = app_env(os.path.join(out, f"standalone-{stack}.cdk.out"))
        env["VENDING_CUSTOMER_FILE"] = os.path.join(FLEET, "customers", f"{stack}.yaml")
        shutil.rmtree(env["CDK_OUTDIR"], ignore_errors=True)
        run(app_command("standalone"), app, env, log, f"standalone: the app (cdk.json) for {stack}")
        assemblies[stack] = env["CDK_OUTDIR"]
    return assemblies


def compare_standalone(reference_label, reference_dir, assemblies):
    """Each standalone assembly must hold one stack, whose template equals the reference's. (passed, failed)."""
    passed = failed = 0
    reference = load_templates(reference_dir)
    for stack, directory in assemblies.items():
        templates = load_templates(directory)
        name = f"{stack}.template.json"
        problems = []
        if sorted(templates) != [name]:
            problems.append(f"expected only {name} in the standalone app's assembly; found {sorted(templates)}")
        elif name not in reference:
            problems.append(f"{reference_label} has no {name}")
        else:
            diffs = differences(normalize(reference[name]), normalize(templates[name]))
            for parts, a, b in diffs[:MAX_DIFFS]:
                problems.append(f"{json_path(parts)}: {reference_label} {show(a)}, standalone {show(b)}")
            if len(diffs) > MAX_DIFFS:
                problems.append(f"... and {len(diffs) - MAX_DIFFS} more")
        if problems:
            failed += 1
            say(f"FAIL standalone {name}")
            for line in problems:
                say(f"  {line}")
        else:
            passed += 1
            say(f"ok   standalone {name} (the same template as in the {reference_label} fleet app)")
    return passed, failed


def run_python(out, venv, wheel):
    log = os.path.join(out, "python.log")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        run([sys.executable, "-m", "venv", venv], ROOT, dict(os.environ), log, "python: creating the virtualenv")
    pip = [python, "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check"]
    pip += ["-r", os.path.join(EXAMPLES, "python", "requirements.txt"), os.path.abspath(wheel)]
    run(pip, ROOT, dict(os.environ), log, "python: installing requirements.txt and the wheel")
    env = app_env(os.path.join(out, "python.cdk.out"), path_first=os.path.join(venv, "bin"))
    run(app_command("python"), os.path.join(EXAMPLES, "python"), env, log, "python: the app (cdk.json)")
    return env["CDK_OUTDIR"]


def run_java(out, java_repo, java_version):
    log = os.path.join(out, "java.log")
    # Maven never downloads a release again once it has it: drop a jar of this version that an earlier
    # build put in the local repository, so that the one in java_repo is used (.ci/run does the same).
    local_repository = os.path.join(os.path.expanduser("~"), ".m2", "repository")
    cached = os.path.join(local_repository, "io", "github", "cdkpaasvending", "cdk-paas-vending", java_version)
    shutil.rmtree(cached, ignore_errors=True)
    env = app_env(os.path.join(out, "java.cdk.out"))
    cmd = app_command(
        "java",
        "-B",
        "-ntp",
        "-Dstyle.color=never",
        f"-Dpaas.version={java_version}",
        f"-Dpaas.repo=file://{os.path.abspath(java_repo)}",
        f"-Dpaas.build={os.path.join(out, 'java-build')}",
    )
    run(cmd, os.path.join(EXAMPLES, "java"), env, log, "java: the app (cdk.json)")
    return env["CDK_OUTDIR"]


def only(pattern, what):
    found = sorted(glob.glob(pattern))
    if len(found) != 1:
        raise Failure(f"expected one {what} ({pattern}); found {len(found)}: run `npx projen package-all` first")
    return found[0]


def java_version_in(java_repo):
    base = os.path.join(java_repo, "io", "github", "cdkpaasvending", "cdk-paas-vending")
    jar = only(os.path.join(base, "*", "cdk-paas-vending-*[0-9].jar"), "jar in " + base)
    return os.path.basename(os.path.dirname(jar))


def node_check():
    try:
        version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        raise Failure(f"no `node` on PATH ({e}): run this under `npx -y -p node@22 --`") from e
    if int(version.lstrip("v").split(".")[0]) < 22:
        raise Failure(f"node {version} is on PATH; expected 22 or newer: run this under `npx -y -p node@22 --`")
    return version


# ---------------------------------------------------------------------------------------------------
# Normalizing and comparing
# ---------------------------------------------------------------------------------------------------
def normalize(template):
    """Removes, in place, the one thing that legitimately differs between the languages. Everything else is
    compared as synthesized: logical IDs, construct paths (Metadata aws:cdk:path), asset hashes in S3 keys and
    asset paths (content hashes: the same bundles and scripts give the same hashes in every language),
    descriptions, tags and the placeholder availability zones of the platform's VPC."""
    resources = template.get("Resources") or {}
    # The AWS::CDK::Metadata resource (version reporting, on under the CDK CLI): its Analytics property is a
    # compressed list of the constructs used that ends with the runtime of the app, `node.js/v22.x` in
    # TypeScript, `Python/3.11.x` or `Java/17.x` through jsii. It differs by language (and by the Node,
    # Python or JDK version) by design, and CloudFormation creates nothing from it.
    for logical_id, resource in list(resources.items()):
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CDK::Metadata":
            del resources[logical_id]
    # Its condition, which a region-agnostic stack gets (the fleet's stacks have a region: normally absent).
    conditions = template.get("Conditions")
    if isinstance(conditions, dict):
        conditions.pop("CDKMetadataAvailable", None)
        if not conditions:
            del template["Conditions"]
    return template


def annotations(assembly):
    """{stack artifact: sorted [(type, construct path, message)]} of warnings, errors and infos in manifest.json,
    and the context lookups the app could not resolve (the placeholder AZs). Stack traces are left out."""
    with open(os.path.join(assembly, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    found = {}
    for name, artifact in (manifest.get("artifacts") or {}).items():
        entries = []
        for path, items in (artifact.get("metadata") or {}).items():
            for item in items:
                if item.get("type") in ("aws:cdk:warning", "aws:cdk:error", "aws:cdk:info"):
                    entries.append((item["type"], path, json.dumps(item.get("data"), sort_keys=True)))
        if entries:
            found[name] = sorted(entries)
    missing = sorted(json.dumps(m, sort_keys=True) for m in manifest.get("missing") or [])
    if missing:
        found["(missing context)"] = [("missing", "", m) for m in missing]
    return found


def json_path(parts):
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += ("." if out else "") + part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(whole template)"


def differences(a, b, path=()):
    """[(json path parts, value in a, value in b)]; MISSING where one side has no such key or item."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            found += differences(a.get(key, MISSING), b.get(key, MISSING), path + (key,))
        return found
    if isinstance(a, list) and isinstance(b, list):
        found = []
        for i in range(max(len(a), len(b))):
            found += differences(a[i] if i < len(a) else MISSING, b[i] if i < len(b) else MISSING, path + (i,))
        return found
    if type(a) is not type(b) or a != b:  # noqa: E721 (1 and true, 1 and 1.0 are different templates)
        return [(path, a, b)]
    return []


class _Missing:
    def __repr__(self):
        return "(missing)"


MISSING = _Missing()


def show(value):
    text = repr(value) if value is MISSING else json.dumps(value, sort_keys=True)
    return text if len(text) <= 300 else text[:300] + f"... ({len(text)} characters)"


def load_templates(assembly):
    templates = {}
    for file in sorted(glob.glob(os.path.join(assembly, "**", "*.template.json"), recursive=True)):
        with open(file, encoding="utf-8") as f:
            templates[os.path.relpath(file, assembly)] = json.load(f)
    return templates


def compare(assemblies):
    """assemblies: [(label, directory)], the first the reference. Returns (passed, failed)."""
    for label, directory in assemblies:
        if not os.path.exists(os.path.join(directory, "manifest.json")):
            raise Failure(f"{label}: {directory} is not a cloud assembly (no manifest.json)")
    reference_label, reference_dir = assemblies[0]
    templates = {label: load_templates(directory) for label, directory in assemblies}
    notes = {label: annotations(directory) for label, directory in assemblies}
    say()
    say(f"comparing {len(templates[reference_label])} templates of {reference_label} with "
        + ", ".join(f"{len(templates[label])} of {label}" for label, _ in assemblies[1:]))

    # The libraries each app actually ran with (tree.json), not only what the examples pin.
    libs = {label: construct_versions(directory) for label, directory in assemblies}
    for label, _ in assemblies:
        say(f"  {label:<10} " + (", ".join(f"{lib} {v}" for lib, v in sorted(libs[label].items())) or "(no tree.json)"))
    failed_libs = [label for label, _ in assemblies[1:] if libs[label] != libs[reference_label]]
    for label in failed_libs:
        say(f"FAIL {label} ran with other libraries than {reference_label}: {libs[label]} vs {libs[reference_label]}")

    passed = failed = 0
    names = sorted(set().union(*(t.keys() for t in templates.values())))
    if not names:
        raise Failure("no *.template.json in any assembly")
    for name in names:
        problems = []
        absent = [label for label, _ in assemblies if name not in templates[label]]
        if absent:
            problems.append(f"missing in {', '.join(absent)}")
        else:
            reference = normalize(templates[reference_label][name])
            for label, _ in assemblies[1:]:
                diffs = differences(reference, normalize(templates[label][name]))
                if diffs:
                    problems.append(f"{len(diffs)} difference(s) between {reference_label} and {label}:")
                    for parts, a, b in diffs[:MAX_DIFFS]:
                        problems.append(f"  {json_path(parts)}")
                        problems.append(f"    {reference_label + ':':<12} {show(a)}")
                        problems.append(f"    {label + ':':<12} {show(b)}")
                    if len(diffs) > MAX_DIFFS:
                        problems.append(f"  ... and {len(diffs) - MAX_DIFFS} more")
        stack = name.replace(".template.json", "")
        for label, _ in assemblies[1:]:
            if notes[label].get(stack) != notes[reference_label].get(stack):
                problems.append(f"annotations differ between {reference_label} and {label}:")
                problems += [f"    {reference_label + ':':<12} {n}" for n in notes[reference_label].get(stack, [])]
                problems += [f"    {label + ':':<12} {n}" for n in notes[label].get(stack, [])]
        if problems:
            failed += 1
            say(f"FAIL {name}")
            for line in problems:
                say(f"  {line}")
        else:
            passed += 1
            size = len(templates[reference_label][name].get("Resources") or {})
            say(f"ok   {name} ({size} resources, same in {len(assemblies)} languages)")
    for label, _ in assemblies[1:]:
        if notes[label].get("(missing context)") != notes[reference_label].get("(missing context)"):
            failed += 1
            say(f"FAIL the context lookups that could not be resolved differ between {reference_label} and {label}")
    return passed, failed + len(failed_libs)


# ---------------------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", maxsplit=1)[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", help="work directory (default: a new temporary directory, kept)")
    parser.add_argument("--venv", help="virtualenv for the Python example (default: OUT/venv; created when missing)")
    parser.add_argument("--tarball", help="the npm package (default: the one in dist/js)")
    parser.add_argument("--wheel", help="the Python wheel (default: the one in dist/python)")
    parser.add_argument("--java-repo", help="the Maven repository jsii-pacmak wrote (default: dist/java)")
    parser.add_argument("--java-version", help="the version of the jar there (default: the one found there)")
    parser.add_argument("--compare", nargs="+", metavar="LABEL=DIR", help="only compare these cloud assemblies")
    args = parser.parse_args()

    passed = failed = 0
    try:
        if args.compare:
            assemblies = []
            for item in args.compare:
                label, sep, directory = item.partition("=")
                if not sep:
                    raise Failure(f"--compare {item}: expected LABEL=DIR")
                assemblies.append((label, os.path.abspath(directory)))
            if len(assemblies) < 2:
                raise Failure("--compare needs two assemblies or more")
        else:
            say(f"node {node_check()}")
            check_pinned_versions()
            out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="example-parity."))
            os.makedirs(out, exist_ok=True)
            tarball = args.tarball or only(os.path.join(ROOT, "dist", "js", "*.tgz"), "npm package in dist/js")
            wheel = args.wheel or only(os.path.join(ROOT, "dist", "python", "*.whl"), "wheel in dist/python")
            java_repo = args.java_repo or os.path.join(ROOT, "dist", "java")
            java_version = args.java_version or java_version_in(java_repo)
            say(f"packages: {os.path.relpath(tarball, ROOT)}, {os.path.relpath(wheel, ROOT)}, "
                f"io.github.cdkpaasvending:cdk-paas-vending:{java_version} in {java_repo}; work directory {out}")
            assemblies = []
            for language, runner in (
                ("typescript", lambda: run_typescript(out, tarball)),
                ("python", lambda: run_python(out, args.venv or os.path.join(out, "venv"), wheel)),
                ("java", lambda: run_java(out, java_repo, java_version)),
            ):
                start = time.monotonic()
                shutil.rmtree(os.path.join(out, f"{language}.cdk.out"), ignore_errors=True)
                assemblies.append((language, runner()))
                say(f"{language}: synthesized in {time.monotonic() - start:.0f} s (output: {out}/{language}.log)")
        passed, failed = compare(assemblies)
        if not args.compare:
            start = time.monotonic()
            standalone = run_standalone(out, tarball)
            say(f"standalone: synthesized in {time.monotonic() - start:.0f} s (output: {out}/standalone.log)")
            more_passed, more_failed = compare_standalone(assemblies[0][0], assemblies[0][1], standalone)
            passed += more_passed
            failed += more_failed
    except Failure as e:
        say()
        say(f"example parity: {e}")
        failed += 1
    say()
    say(f"examples smoke: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
