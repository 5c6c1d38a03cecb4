package io.github.cdkpaasvending.smoke;

import io.github.cdkpaasvending.ConfigLoader;
import io.github.cdkpaasvending.CustomerConfig;
import io.github.cdkpaasvending.CustomerLoadOptions;
import io.github.cdkpaasvending.DatabaseEngine;
import io.github.cdkpaasvending.FleetConfig;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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

    public static void main(final String[] args) {
        root = Paths.get(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
        String[] names = {"loadCustomerFile", "loadFleet", "invalidInputThrows"};
        Check[] checks = {Smoke::loadCustomerFile, Smoke::loadFleet, Smoke::invalidInputThrows};
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
