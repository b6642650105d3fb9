package io.quiver.server;

import io.quiver.loadtest.DurationConverter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code quiver ctl read-only on --reason TEXT | off | status}: the operator read-only mode through
 * a gateway's {@code /admin/read-only} (API.md §2 "Operators"). Prints one line; errors are one line
 * on stderr. Exit codes are {@code ctl}'s (0 done, 1 failed, 2 bad usage, 3 gateway unreachable) plus
 * {@value #EXIT_PENDING}: the mode was set but some shards did not confirm within the timeout.
 */
@Command(name = "read-only", mixinStandardHelpOptions = true,
    description = "Switch the cluster-wide read-only mode on or off, or show it.",
    subcommands = {ReadOnlyCommand.On.class, ReadOnlyCommand.Off.class, ReadOnlyCommand.Status.class},
    footer = {"", "Exit codes: 0 done, 1 failed, 2 bad usage, 3 gateway unreachable,",
        "4 set but some shards did not confirm in time."})
final class ReadOnlyCommand implements Runnable {
  /** The mode is set, but shards did not confirm in time. */
  static final int EXIT_PENDING = 4;
  private static final String PATH = "/admin/read-only";

  @Spec CommandLine.Model.CommandSpec spec;
  @ParentCommand CtlCommand ctl;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Prints the state (and any pending shards) and returns the exit code. */
  static int report(CtlClient.Answer a, boolean json, PrintWriter out) {
    JsonObject s = a.body();
    if (json) {
      out.println(s.encode());
    } else {
      StringBuilder line = new StringBuilder("read-only ").append(s.getBoolean("enabled", false) ? "ON" : "OFF");
      if (!s.getString("since", "").isEmpty()) {
        line.append(" since ").append(s.getString("since"));
      }
      if (!s.getString("set_by", "").isEmpty()) {
        line.append(" by ").append(s.getString("set_by"));
      }
      if (!s.getString("reason", "").isEmpty()) {
        line.append(": ").append(s.getString("reason"));
      }
      JsonArray pending = s.getJsonArray("pending_shards", new JsonArray());
      if (!pending.isEmpty()) {
        line.append(" (shards that did not confirm in time: ").append(pending.encode()).append(")");
      }
      out.println(line);
    }
    out.flush();
    return a.status() == 202 ? EXIT_PENDING : CtlCommand.OK;
  }

  /** What every subcommand shares: the parent's connection and {@code --json}. */
  abstract static class Sub implements Callable<Integer> {
    @ParentCommand ReadOnlyCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print the gateway's JSON answer instead of a sentence.")
    boolean json;

    @Override
    public final Integer call() {
      return CtlException.run(() -> report(exchange(parent.ctl.client()), json, spec.commandLine().getOut()));
    }

    abstract CtlClient.Answer exchange(CtlClient client);

    CtlClient.Answer toggle(CtlClient client, boolean enabled, String reason, Duration timeout) {
      JsonObject body = new JsonObject().put("enabled", enabled).put("timeout_ms", timeout.toMillis());
      if (reason != null) {
        body.put("reason", reason);
      }
      return client.send("PUT", PATH, body, timeout.plusSeconds(5));
    }
  }

  /** {@code --timeout}: a duration from 1 ms to 60 s, the range {@code PUT /admin/read-only} accepts. */
  static final class ConfirmTimeout implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Duration d = DurationConverter.parse(value);
      if (d.toMillis() < 1 || d.toMillis() > 60_000) {
        throw new CommandLine.TypeConversionException("--timeout must be between 1ms and 60s, got '" + value + "'");
      }
      return d;
    }
  }

  @Command(name = "on", mixinStandardHelpOptions = true, description = "Refuse every write in the cluster until 'off'.")
  static final class On extends Sub {
    @Option(names = "--reason", required = true, description = "Why; shown in every refused write's error message.")
    String reason;

    @Option(names = "--timeout", defaultValue = "5s", converter = ConfirmTimeout.class,
        description = "How long to wait for the shards' confirmations (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    CtlClient.Answer exchange(CtlClient client) {
      return toggle(client, true, reason, timeout);
    }
  }

  @Command(name = "off", mixinStandardHelpOptions = true, description = "Accept writes again.")
  static final class Off extends Sub {
    @Option(names = "--timeout", defaultValue = "5s", converter = ConfirmTimeout.class,
        description = "How long to wait for the shards' confirmations (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    CtlClient.Answer exchange(CtlClient client) {
      return toggle(client, false, null, timeout);
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the mode.")
  static final class Status extends Sub {
    @Override
    CtlClient.Answer exchange(CtlClient client) {
      return client.send("GET", PATH, null, Duration.ofSeconds(10));
    }
  }
}
