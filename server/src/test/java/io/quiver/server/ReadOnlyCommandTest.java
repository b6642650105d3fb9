package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code quiver ctl read-only} against a scripted gateway: what it sends, prints and exits with. */
class ReadOnlyCommandTest {
  record Seen(String method, String path, String body, String apiKey, String client) {}

  private HttpServer server;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private volatile int status = 200;
  private volatile String answer = "{}";
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", x -> {
      seen.add(new Seen(x.getRequestMethod(), x.getRequestURI().getPath(),
          new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8),
          x.getRequestHeaders().getFirst("x-api-key"), x.getRequestHeaders().getFirst("x-quiver-client")));
      byte[] b = answer.getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().add("content-type", "application/json");
      x.sendResponseHeaders(status, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  /** Runs {@code quiver ctl ARGS}; picocli's usage errors and ctl's one-line failures both land in {@code err}. */
  private int ctl(String... args) {
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    PrintStream stderr = System.err;
    ByteArrayOutputStream failures = new ByteArrayOutputStream();
    System.setErr(new PrintStream(failures, true, StandardCharsets.UTF_8));
    try {
      return cl.execute(all);
    } finally {
      System.setErr(stderr);
      err.write(failures.toString(StandardCharsets.UTF_8));
    }
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void onSendsThePutWithReasonTimeoutKeyAndClientAndPrintsTheState() {
    answer = "{\"enabled\":true,\"reason\":\"disk migration\",\"since\":\"2026-11-20T10:00:00Z\",\"set_by\":\"ctl\",\"version\":7}";
    int code = ctl("read-only", "on", "--reason", "disk migration", "--url", url(), "--api-key", "k-admin", "--timeout", "2s");
    assertThat(code).isZero();
    Seen s = seen.get(0);
    assertThat(s.method()).isEqualTo("PUT");
    assertThat(s.path()).isEqualTo("/admin/read-only");
    assertThat(new JsonObject(s.body())).isEqualTo(new JsonObject().put("enabled", true).put("timeout_ms", 2000)
        .put("reason", "disk migration"));
    assertThat(s.apiKey()).isEqualTo("k-admin");
    assertThat(s.client()).isEqualTo("ctl");
    assertThat(out.toString().trim()).isEqualTo("read-only ON since 2026-11-20T10:00:00Z by ctl: disk migration");
  }

  @Test
  void offAndStatusUseTheSameEndpoint() {
    answer = "{\"enabled\":false,\"reason\":\"\",\"since\":\"2026-11-20T10:00:01Z\",\"set_by\":\"ctl\",\"version\":8}";
    assertThat(ctl("read-only", "off", "--url", url())).isZero();
    assertThat(new JsonObject(seen.get(0).body()).getBoolean("enabled")).isFalse();
    assertThat(ctl("read-only", "status", "--url", url(), "--json")).isZero();
    assertThat(seen.get(1).method()).isEqualTo("GET");
    assertThat(out.toString()).contains("read-only OFF since 2026-11-20T10:00:01Z by ctl").contains("\"version\":8");
  }

  @Test
  void exitsWith4AndNamesTheShardsThatDidNotConfirm() {
    status = 202;
    answer = "{\"enabled\":true,\"reason\":\"r\",\"since\":\"s\",\"set_by\":\"ctl\",\"version\":7,\"pending_shards\":[1,4]}";
    assertThat(ctl("read-only", "on", "--reason", "r", "--url", url())).isEqualTo(ReadOnlyCommand.EXIT_PENDING);
    assertThat(out.toString()).contains("did not confirm in time: [1,4]");
  }

  @Test
  void aRefusalIsExit1AndAnUnreachableGatewayExit3EachOneLineOnStderr() {
    status = 403;
    answer = "{\"code\":\"forbidden\",\"message\":\"this operation needs the 'admin' scope\",\"request_id\":\"x\"}";
    assertThat(ctl("read-only", "on", "--reason", "r", "--url", url())).isEqualTo(1);
    assertThat(err.toString()).isEqualTo("quiver ctl: PUT /admin/read-only failed: forbidden: this operation needs the"
        + " 'admin' scope" + System.lineSeparator());
    server.stop(0);
    err.getBuffer().setLength(0);
    assertThat(ctl("read-only", "status", "--url", url())).isEqualTo(CtlCommand.UNREACHABLE);
    assertThat(err.toString()).startsWith("quiver ctl: cannot reach the gateway at ").doesNotContain("\tat ");
    assertThat(err.toString().lines().count()).isEqualTo(1);
  }

  @Test
  void aTimeoutOutsideOneMillisecondToOneMinuteIsBadUsage() {
    assertThat(ctl("read-only", "on", "--reason", "r", "--timeout", "2m", "--url", url())).isEqualTo(2);
    assertThat(seen).isEmpty();
    assertThat(err.toString()).contains("--timeout must be between 1ms and 60s");
  }

  @Test
  void onWithoutAReasonIsBadUsage() {
    assertThat(ctl("read-only", "on", "--url", url())).isEqualTo(2);
    assertThat(seen).isEmpty();
    assertThat(err.toString()).contains("--reason");
  }
}
