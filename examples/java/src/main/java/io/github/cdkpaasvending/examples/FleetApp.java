package io.github.cdkpaasvending.examples;

import io.github.cdkpaasvending.VendingFleet;
import software.amazon.awscdk.App;

import java.nio.file.Paths;

/**
 * A whole fleet as a CDK app: the platform stack and one stack per customer file.
 *
 * <pre>
 *   cdk synth                                    the bundled example fleet (../fleet)
 *   VENDING_FLEET_DIR=/path/to/fleet cdk synth
 *   mvn -q compile exec:java -Dexec.args=/path/to/fleet   (without the CDK CLI; writes cdk.out/)
 * </pre>
 */
public final class FleetApp {
    private FleetApp() {}

    public static void main(final String[] args) {
        // A directory with platform.yaml and customers/*.yaml: the first argument, else $VENDING_FLEET_DIR,
        // else the example fleet next to this directory (the CDK CLI runs the app where cdk.json is).
        String fleetDirectory = args.length > 0 ? args[0] : System.getenv("VENDING_FLEET_DIR");
        if (fleetDirectory == null) {
            fleetDirectory = Paths.get("..", "fleet").toString();
        }

        App app = new App();
        VendingFleet.fromDirectory(app, fleetDirectory);
        app.synth();
    }
}
