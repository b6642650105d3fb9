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
    int code = commandLine().execute(args);
    if (code != 0) {
      System.exit(code);
    }
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
