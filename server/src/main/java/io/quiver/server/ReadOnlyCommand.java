package io.quiver.server;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quiver ctl read-only on --reason TEXT | off | status}: the operator read-only mode through
 * a gateway's {@code /admin/read-only} (API.md §2 "Operators"). Prints one line; errors are one line
 * on stderr. Exit codes: 0 done (every live shard confirmed), 1 failed (unreachable, refused, bad
 * answer), 2 bad usage, 3 the mode was set but some shards did not confirm within the timeout.
 * One instance per invocation; not thread-safe.
 */
@Command(name = "read-only", mixinStandardHelpOptions = true,
    description = "Switch the cluster-wide read-only mode on or off, or show it.",
    subcommands = {ReadOnlyCommand.On.class, ReadOnlyCommand.Off.class, ReadOnlyCommand.Status.class},
    footer = {"", "Exit codes: 0 done, 1 failed, 2 bad usage, 3 set but some shards did not confirm in time."})
final class ReadOnlyCommand implements Runnable {
  /** The mode is set, but shards did not confirm in time. */
  static final int EXIT_PENDING = 3;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @picocli.CommandLine.ParentCommand CtlCommand ctl;

  /**
   * Where the gateway is and how to authenticate: {@code ctl}'s {@code --url} and {@code --api-key},
   * filled in by {@link #from}; shared by the subcommands.
   */
  static final class Connection {
    String url;
    String apiKey;

    Connection from(ReadOnlyCommand parent) {
      url = parent.ctl.url;
      apiKey = parent.ctl.apiKey;
      return this;
    }

    @Option(names = "--json", description = "Print the gateway's JSON answer instead of a sentence.")
    boolean json;

    /** Sends one request; returns the status and the JSON object body, or throws with a one-line reason. */
    Answer send(String method, JsonObject body, Duration timeout) {
      String target = url.replaceAll("/+$", "") + "/admin/read-only";
      HttpRequest.Builder b;
      try {
        b = HttpRequest.newBuilder(URI.create(target)).timeout(timeout).header("x-quiver-client", "ctl");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--url '" + url + "' is not a URL: " + e.getMessage());
      }
      if (apiKey != null && !apiKey.isEmpty()) {
        b.header("x-api-key", apiKey);
      }
      b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofString(body.encode()));
      if (body != null) {
        b.header("content-type", "application/json");
      }
      HttpResponse<String> r;
      try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
        r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new IllegalStateException("cannot reach " + target + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted");
      }
      JsonObject answer;
      try {
        answer = new JsonObject(r.body());
      } catch (DecodeException | ClassCastException e) {
        throw new IllegalStateException(target + " answered " + r.statusCode() + " without a JSON object body");
      }
      if (r.statusCode() >= 300) {
        throw new IllegalStateException(answer.getString("code", "HTTP " + r.statusCode()) + ": "
            + answer.getString("message", r.body()));
      }
      return new Answer(r.statusCode(), answer);
    }
  }

  record Answer(int status, JsonObject body) {}

  /** Prints the state (and any pending shards) and returns the exit code. */
  static int report(Connection c, Answer a, PrintWriter out) {
    JsonObject s = a.body();
    if (c.json) {
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
    return a.status() == 202 ? EXIT_PENDING : 0;
  }

  @Command(name = "on", mixinStandardHelpOptions = true, description = "Refuse every write in the cluster until 'off'.")
  static final class On implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.ParentCommand ReadOnlyCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--reason", required = true, description = "Why; shown in every refused write's error message.")
    String reason;

    @Option(names = "--timeout", defaultValue = "5s", converter = DurationConverter.class,
        description = "How long to wait for the shards' confirmations (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
      return toggle(connection.from(parent), spec, true, reason, timeout);
    }
  }

  @Command(name = "off", mixinStandardHelpOptions = true, description = "Accept writes again.")
  static final class Off implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.ParentCommand ReadOnlyCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--timeout", defaultValue = "5s", converter = DurationConverter.class,
        description = "How long to wait for the shards' confirmations (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
      return toggle(connection.from(parent), spec, false, null, timeout);
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the mode.")
  static final class Status implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.ParentCommand ReadOnlyCommand parent;
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return report(connection.from(parent), connection.send("GET", null, Duration.ofSeconds(10)), spec.commandLine().getOut());
    }
  }

  private static int toggle(Connection c, CommandLine.Model.CommandSpec spec, boolean enabled, String reason, Duration timeout) {
    if (timeout.toMillis() < 1 || timeout.toMillis() > 60_000) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be between 1ms and 60s");
    }
    JsonObject body = new JsonObject().put("enabled", enabled).put("timeout_ms", timeout.toMillis());
    if (reason != null) {
      body.put("reason", reason);
    }
    return report(c, c.send("PUT", body, timeout.plusSeconds(5)), spec.commandLine().getOut());
  }

  /** Parses {@code 500ms}, {@code 5s}, {@code 1m}, or a plain number of milliseconds. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String v) {
      String s = v.trim().toLowerCase(java.util.Locale.ROOT);
      try {
        if (s.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        }
        if (s.endsWith("s")) {
          return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
        }
        if (s.endsWith("m")) {
          return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
        }
        return Duration.ofMillis(Long.parseLong(s));
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException("'" + v + "' is not a duration (e.g. 500ms, 5s, 1m)");
      }
    }
  }
}
