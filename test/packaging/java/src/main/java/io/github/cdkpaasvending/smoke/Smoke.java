package io.github.cdkpaasvending.smoke;

import io.github.cdkpaasvending.ConfigLoader;
import io.github.cdkpaasvending.CustomerConfig;
import io.github.cdkpaasvending.CustomerLoadOptions;
import io.github.cdkpaasvending.DatabaseEngine;
import io.github.cdkpaasvending.FleetConfig;
import io.github.cdkpaasvending.IPriorityAllocator;
import io.github.cdkpaasvending.PlatformConfig;
import io.github.cdkpaasvending.PriorityAllocator;
import io.github.cdkpaasvending.SharedAlbRule;
import io.github.cdkpaasvending.SharedPlatform;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.cxapi.CloudAssembly;
import software.amazon.awscdk.services.certificatemanager.Certificate;
import software.amazon.awscdk.services.elasticloadbalancingv2.ApplicationProtocol;
import software.amazon.awscdk.services.elasticloadbalancingv2.ApplicationTargetGroup;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Smoke test of the Java package built by jsii-pacmak. Argument: the repository root (holds examples/fleet/).
 * The last line is {@code java smoke: N passed, M failed}; the exit code is 1 when M > 0.
 */
public final class Smoke {
    private static Path root;

    private Smoke() {}

    @FunctionalInterface
    private interface Check {
        void run() throws Exception;
    }

    private static void check(final boolean condition, final String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static Path fleet() {
        return root.resolve("examples").resolve("fleet");
    }

    private static Path acme() {
        return fleet().resolve("customers").resolve("acme-production.yaml");
    }

    private static void loadCustomerFile() {
        CustomerConfig config = ConfigLoader.loadCustomerFile(acme().toString());
        check("acme".equals(config.getCustomer()), "customer is " + config.getCustomer() + "; expected acme");
        check("production".equals(config.getEnvironment()),
                "environment is " + config.getEnvironment() + "; expected production");
        check(config.getCompute() != null, "compute is missing");
        Number min = config.getCompute().getMinCapacity();
        check(min != null && min.intValue() == 2, "compute.minCapacity is " + min + "; expected 2");
        check(config.getDatabase() != null, "database is missing");
        DatabaseEngine engine = config.getDatabase().getEngine();
        check(engine == DatabaseEngine.POSTGRES, "database.engine is " + engine + "; expected POSTGRES");
        String owner = config.getSoftwareDelivery().getRepository().getOwner();
        check("acme".equals(owner), "softwareDelivery.repository.owner is " + owner + "; expected acme");
        // With the platform (an options struct, built as Java users do), the default host name is filled in.
        CustomerConfig withPlatform = ConfigLoader.loadCustomerFile(acme().toString(),
                CustomerLoadOptions.builder().platform(ConfigLoader.loadPlatformFile(
                        fleet().resolve("platform.yaml").toString())).build());
        check("acme-production.apps.example.com".equals(withPlatform.getHostname()),
                "hostname is " + withPlatform.getHostname() + "; expected acme-production.apps.example.com");
    }

    private static void loadFleet() {
        File[] files = fleet().resolve("customers").toFile().listFiles((dir, name) -> {
            String n = name.toLowerCase(Locale.ROOT);
            return !n.startsWith(".") && (n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json"));
        });
        check(files != null, "cannot list " + fleet().resolve("customers"));
        FleetConfig config = ConfigLoader.loadFleet(fleet().toString());
        int count = config.getCustomers().size();
        check(count == files.length,
                "loadFleet returned " + count + " customers; expected " + files.length + " (files in customers/)");
        check(config.getPlatform() != null, "platform is missing");
        List<String> names = new ArrayList<>();
        config.getCustomers().forEach(c -> names.add(c.getCustomer()));
        check(names.contains("acme"), "customers are " + names + "; expected acme among them");
    }

    private static void invalidInputThrows() throws IOException {
        String text = new String(Files.readAllBytes(acme()), StandardCharsets.UTF_8);
        check(text.contains("minCapacity: 2"), "acme-production.yaml no longer has 'minCapacity: 2'; update this test");
        String bad = text.replace("minCapacity: 2", "minCapacity: \"two\"");
        try {
            ConfigLoader.parseCustomer(bad, "bad.yaml");
        } catch (RuntimeException e) { // software.amazon.jsii.JsiiError carries the JavaScript message
            String message = String.valueOf(e.getMessage());
            check(message.contains("Invalid config"), "message lacks 'Invalid config': " + message);
            check(message.contains("compute.minCapacity"), "message lacks the field path 'compute.minCapacity': " + message);
            check(message.contains("expected"), "message lacks 'expected': " + message);
            check(message.contains("bad.yaml:"), "message lacks the source name 'bad.yaml:': " + message);
            return;
        }
        throw new AssertionError("parseCustomer accepted minCapacity: \"two\"; expected an exception");
    }

    /** The resources of a synthesized template (as the jsii runtime gives it: maps and lists) of one type. */
    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> resourcesOfType(final Object template, final String type) {
        check(template instanceof Map, "the template is " + (template == null ? "null" : template.getClass().getName())
                + "; expected a java.util.Map");
        Object resources = ((Map<String, Object>) template).get("Resources");
        Map<String, Map<String, Object>> found = new LinkedHashMap<>();
        if (resources instanceof Map) {
            ((Map<String, Object>) resources).forEach((logicalId, resource) -> {
                if (resource instanceof Map && type.equals(((Map<String, Object>) resource).get("Type"))) {
                    found.put(logicalId, (Map<String, Object>) resource);
                }
            });
        }
        return found;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> propertiesOf(final Map<String, Object> resource) {
        Object properties = resource.get("Properties");
        return properties instanceof Map ? (Map<String, Object>) properties : Map.of();
    }

    private static Stack stack(final App app, final String id, final Environment env) {
        return new Stack(app, id, StackProps.builder().env(env).build());
    }

    private static void deleteTree(final Path dir) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList());
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    @SuppressWarnings("unchecked")
    private static void sharedPlatformAndRuleSynth() throws IOException {
        Path outdir = Files.createTempDirectory("paas-smoke-");
        try {
            App app = App.Builder.create().outdir(outdir.toString()).build();
            Environment env = Environment.builder().account("123456789012").region("eu-west-1").build();

            Stack platformStack = stack(app, "Platform", env);
            SharedPlatform platform = SharedPlatform.Builder.create(platformStack, "Platform")
                    .platformName("acme")
                    .production(true)
                    .certificate(Certificate.fromCertificateArn(platformStack, "Wildcard",
                            "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"))
                    .build();

            Stack customerStack = stack(app, "Customer", env);
            ApplicationTargetGroup targetGroup = ApplicationTargetGroup.Builder.create(customerStack, "TargetGroup")
                    .vpc(platform.getVpc())
                    .port(80)
                    .protocol(ApplicationProtocol.HTTP)
                    .build();
            SharedAlbRule.Builder.create(customerStack, "Rule")
                    .listener(platform.getHttpsListener())
                    .allocator(platform.getAllocator())
                    .hostHeaders(List.of("acme.apps.example.com"))
                    .targetGroup(targetGroup)
                    .tags(Map.of("customer", "acme"))
                    .ruleLimit(150)
                    .build();

            // The example platform through fromConfig, in a stack of the config's account and region.
            PlatformConfig config = ConfigLoader.loadPlatformFile(fleet().resolve("platform.yaml").toString());
            Stack configStack = stack(app, "ConfigPlatform",
                    Environment.builder().account(config.getAccount()).region(config.getRegion()).build());
            SharedPlatform fromConfig = SharedPlatform.fromConfig(configStack, "Platform", config);
            check(config.getName().equals(fromConfig.getPlatformName()), "fromConfig platformName is "
                    + fromConfig.getPlatformName() + "; expected " + config.getName() + " (the config's name)");
            boolean production = "production".equals(config.getEnvironment());
            check(Boolean.valueOf(production).equals(fromConfig.getProduction()),
                    "fromConfig production is " + fromConfig.getProduction() + "; expected " + production
                    + " (environment " + config.getEnvironment() + ")");

            // A customer stack that finds the allocator through its SSM parameter, as a stack of another app would.
            Stack importedStack = stack(app, "ImportedCustomer", env);
            String parameterName = SharedPlatform.allocatorParameterName("acme");
            check("/vending/acme/priority-allocator-arn".equals(parameterName), "allocatorParameterName(\"acme\") is "
                    + parameterName + "; expected /vending/acme/priority-allocator-arn");
            IPriorityAllocator imported = PriorityAllocator.fromParameter(importedStack, "Imported", parameterName);
            SharedAlbRule.Builder.create(importedStack, "Rule")
                    .listener(platform.getHttpsListener())
                    .allocator(imported)
                    .hostHeaders(List.of("acme-staging.apps.example.com"))
                    .targetGroup(ApplicationTargetGroup.Builder.create(importedStack, "TargetGroup")
                            .vpc(platform.getVpc())
                            .port(80)
                            .protocol(ApplicationProtocol.HTTP)
                            .build())
                    .build();

            CloudAssembly assembly = app.synth();

            Object customer = assembly.getStackByName(customerStack.getStackName()).getTemplate();
            Map<String, Map<String, Object>> rules = resourcesOfType(customer, "Custom::SharedAlbRulePriority");
            check(rules.size() == 1, "customer stack has " + rules.size() + " Custom::SharedAlbRulePriority resources "
                    + rules.keySet() + "; expected 1");
            Map<String, Object> properties = propertiesOf(rules.values().iterator().next());
            Object ruleLimit = properties.get("ruleLimit");
            check(ruleLimit instanceof Number && ((Number) ruleLimit).doubleValue() == 150,
                    "the rule's ruleLimit is " + ruleLimit + "; expected 150");
            List<Map<String, String>> expectedTags = List.of(Map.of("Key", "customer", "Value", "acme"));
            check(expectedTags.equals(properties.get("tags")),
                    "the rule's tags are " + properties.get("tags") + "; expected " + expectedTags);
            Map<String, Map<String, Object>> functions = resourcesOfType(customer, "AWS::Lambda::Function");
            check(functions.isEmpty(), "customer stack has AWS::Lambda::Function resources " + functions.keySet()
                    + "; expected none");

            Object importedTemplate = assembly.getStackByName(importedStack.getStackName()).getTemplate();
            rules = resourcesOfType(importedTemplate, "Custom::SharedAlbRulePriority");
            check(rules.size() == 1, "imported-allocator stack has " + rules.size()
                    + " Custom::SharedAlbRulePriority resources " + rules.keySet() + "; expected 1");
            Object token = propertiesOf(rules.values().iterator().next()).get("ServiceToken");
            Object parameters = ((Map<String, Object>) importedTemplate).get("Parameters");
            Object parameter = token instanceof Map && parameters instanceof Map
                    ? ((Map<String, Object>) parameters).get(((Map<String, Object>) token).get("Ref")) : null;
            check(parameter instanceof Map && parameterName.equals(((Map<String, Object>) parameter).get("Default")),
                    "the imported rule's ServiceToken is " + token + " (parameter " + parameter
                    + "); expected a Ref to an SSM parameter whose Default is " + parameterName);
            functions = resourcesOfType(importedTemplate, "AWS::Lambda::Function");
            check(functions.isEmpty(), "imported-allocator stack has AWS::Lambda::Function resources "
                    + functions.keySet() + "; expected none");

            for (Stack s : List.of(platformStack, configStack)) {
                functions = resourcesOfType(assembly.getStackByName(s.getStackName()).getTemplate(),
                        "AWS::Lambda::Function");
                boolean allocator = functions.keySet().stream().anyMatch(id -> id.contains("PriorityAllocatorFunction"));
                boolean environmentResources = functions.keySet().stream()
                        .anyMatch(id -> id.contains("EnvironmentResourcesFunction"));
                check(functions.size() == 2 && allocator && environmentResources, "stack " + s.getStackName()
                        + " has " + functions.size() + " AWS::Lambda::Function resources " + functions.keySet()
                        + "; expected 2 (the priority allocator and the environment-resources function)");
                for (Map.Entry<String, Map<String, Object>> function : functions.entrySet()) {
                    Object runtime = propertiesOf(function.getValue()).get("Runtime");
                    check("nodejs24.x".equals(runtime), "the function " + function.getKey() + " of stack "
                            + s.getStackName() + " has Runtime " + runtime + "; expected nodejs24.x");
                }
            }
        } finally {
            deleteTree(outdir);
        }
    }

    public static void main(final String[] args) {
        root = Paths.get(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
        String[] names = {"loadCustomerFile", "loadFleet", "invalidInputThrows", "sharedPlatformAndRuleSynth"};
        Check[] checks = {Smoke::loadCustomerFile, Smoke::loadFleet, Smoke::invalidInputThrows,
            Smoke::sharedPlatformAndRuleSynth};
        int passed = 0;
        int failed = 0;
        for (int i = 0; i < checks.length; i++) {
            try {
                checks[i].run();
                passed++;
                System.out.println("ok   " + names[i]);
            } catch (Throwable t) {
                failed++;
                System.out.println("FAIL " + names[i]);
                t.printStackTrace(System.out);
            }
            System.out.flush();
        }
        System.out.println("java smoke: " + passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed > 0 ? 1 : 0);
    }
}
