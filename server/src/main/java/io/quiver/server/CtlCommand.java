package io.quiver.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code quiver ctl}: operator commands against a running cluster, through a gateway's REST admin
 * API. Only a parent for its subcommands. Not thread-safe (one per invocation).
 */
@Command(name = "ctl", mixinStandardHelpOptions = true, description = "Operator commands against a running cluster.",
    subcommands = {ReadOnlyCommand.class})
final class CtlCommand implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
