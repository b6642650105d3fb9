package io.quiver.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code bin/quiver bench}: the load generator that produces every performance number of the project.
 * Each scenario is a subcommand; {@code compare} is the regression gate over two JSON reports.
 *
 * <p>Embed it in another picocli main with {@code addSubcommand(new BenchCommand())} or run it alone with
 * {@link #main}. Without a subcommand it prints its usage and returns 2.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = BenchCommand.Version.class,
    description = "Load generator and benchmark scenarios for a running Quiver gateway.",
    subcommands = {
        IngestScenario.class,
        SearchScenario.class,
        MixedScenario.class,
        ReadOnlyToggleScenario.class,
        OverloadScenario.class,
        SoakScenario.class,
        ChaosScenario.class,
        EngineIngestScenario.class,
        EngineSearchScenario.class,
        CompareCommand.class,
        CommandLine.HelpCommand.class
    })
public final class BenchCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "choose a scenario (or compare)");
  }

  /** Runs a bench command line and returns its exit code (0 passed, 1 a check failed or regressed, 2 usage). */
  public static int execute(String... args) {
    return new CommandLine(new BenchCommand()).execute(args);
  }

  /** The module version from the jar manifest, or "dev" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = BenchCommand.class.getPackage().getImplementationVersion();
      return new String[] {"quiver bench " + (v == null ? "dev" : v) + " (JDK " + Runtime.version() + ")"};
    }
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }
}
