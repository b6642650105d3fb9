package io.quiver.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The single entry point of {@code quiver.jar}: one subcommand per role (API.md §1). A bad setting
 * exits non-zero with a one-line reason.
 */
@Command(name = "quiver", mixinStandardHelpOptions = true, version = "quiver 0.1.0",
    description = "Quiver: a sharded vector store cluster.",
    subcommands = {StandaloneCommand.class, ShardCommand.class, GatewayCommand.class, CtlCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    if (!configureLogging(args, System.getenv("QUIVER_LOG_FORMAT"))) {
      System.exit(2);
    }
    int code;
    try {
      code = commandLine().execute(args);
    } catch (Throwable t) {
      // An Error escaping picocli (a broken jar, say) must still end the process: Vert.x and
      // Hazelcast threads would otherwise keep a half-started JVM alive.
      System.err.println("quiver: " + t);
      code = 1;
    }
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Picks the log format before the first logger exists (logback.xml reads these properties):
   * QUIVER_LOG_FORMAT when set, else json for the shard and gateway roles and text otherwise.
   */
  static boolean configureLogging(String[] args, String format) {
    String role = args.length > 0 && java.util.Set.of("standalone", "shard", "gateway", "ctl", "bench").contains(args[0])
        ? args[0] : "quiver";
    if (format == null || format.isBlank()) {
      format = role.equals("shard") || role.equals("gateway") ? "json" : "text";
    }
    if (!format.equals("json") && !format.equals("text")) {
      System.err.println("quiver: QUIVER_LOG_FORMAT must be json or text, got '" + format + "'");
      return false;
    }
    System.setProperty("QUIVER_LOG_FORMAT", format);
    System.setProperty("QUIVER_SERVICE", "quiver-" + role);
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    return true;
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main()).addSubcommand(new io.quiver.loadtest.BenchCommand());
    cl.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println("quiver: " + ex.getMessage() + " (see --help)");
      return 2;
    });
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      Throwable root = ex;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      commandLine.getErr().println("quiver: " + (root.getMessage() == null ? root.toString() : root.getMessage()));
      return 1;
    });
    return cl;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
