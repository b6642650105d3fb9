package io.quiver.server;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code quiver ctl}: the operator CLI. Talks to one gateway's REST admin endpoints ({@code --url},
 * {@code --api-key}); backup verification and restore work on files and need no running cluster.
 * Every subcommand prints progress on stdout, a one-line error on stderr ({@code quiver ctl: ...}),
 * and exits 0 on success, 1 when the operation failed or found a problem, 2 on bad usage, 3 when the
 * gateway cannot be reached.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true,
    description = "Operator commands: cluster status, checkpoint, drain, backup, restore, verify-backup.",
    subcommands = {
        ClusterCommand.class,
        CheckpointCommand.class,
        BackupCommand.class,
        RestoreCommand.class,
        VerifyBackupCommand.class,
        DrainCommand.class,
        ReadOnlyCommand.class,
    })
final class CtlCommand implements Runnable {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int UNREACHABLE = 3;

  @Option(names = "--url", defaultValue = "${env:QUIVER_URL:-http://127.0.0.1:8080}", scope = ScopeType.INHERIT,
      description = "Gateway REST base URL (env QUIVER_URL).")
  String url;

  @Option(names = "--api-key", defaultValue = "${env:QUIVER_API_KEY:-}", scope = ScopeType.INHERIT,
      description = "API key with the admin scope when auth is on (env QUIVER_API_KEY).")
  String apiKey;

  @Spec CommandSpec spec;

  /** A client for the gateway named by the inherited options. */
  CtlClient client() {
    return new CtlClient(url, apiKey);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
