package io.quiver.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The bench tool's one report writer: {@link Report} to and from JSON (snake_case, the {@code --report}
 * file and the input of {@code compare}), and the human-readable summary table printed on stdout.
 *
 * <p>Stateless and thread-safe.
 */
public final class ReportWriter {

  /** Bumped when a field changes meaning; {@code compare} refuses other versions. */
  public static final int FORMAT_VERSION = 1;

  private ReportWriter() {}

  public static JsonObject toJson(Report r) {
    JsonObject m = new JsonObject()
        .put("cores", r.machine().cores())
        .put("jdk", r.machine().jdk())
        .put("os", r.machine().os())
        .put("arch", r.machine().arch())
        .put("max_heap_bytes", r.machine().maxHeapBytes());
    JsonArray phases = new JsonArray();
    for (Report.PhaseReport p : r.phases()) {
      JsonArray ops = new JsonArray();
      for (Report.OpReport o : p.ops()) {
        JsonObject op = new JsonObject()
            .put("op", o.op())
            .put("sent", o.sent())
            .put("ok", o.ok())
            .put("errors", o.errors())
            .put("throughput_per_s", o.throughput())
            .put("latency_ms", latency(o.latency()))
            .put("error_latency_ms", latency(o.errorLatency()))
            .put("errors_by_code", new JsonObject(new LinkedHashMap<>(o.errorsByCode())))
            .put("errors_by_status", new JsonObject(new LinkedHashMap<>(o.errorsByStatus())));
        if (o.recall() != null) {
          op.put("recall", o.recall());
        }
        ops.add(op);
      }
      JsonObject phase = new JsonObject()
          .put("name", p.name())
          .put("duration_s", p.durationSeconds())
          .put("ops", ops)
          .put("extra", new JsonObject(new LinkedHashMap<>(p.extra())));
      if (p.offeredRate() != null) {
        phase.put("offered_rate_per_s", p.offeredRate());
      }
      phases.add(phase);
    }
    return new JsonObject()
        .put("format_version", FORMAT_VERSION)
        .put("scenario", r.scenario())
        .put("started_at", r.startedAt())
        .put("parameters", new JsonObject(new LinkedHashMap<>(r.parameters())))
        .put("machine", m)
        .put("phases", phases)
        .put("checks", new JsonObject(new LinkedHashMap<>(r.checks())))
        .put("passed", r.passed());
  }

  public static Report fromJson(JsonObject j) {
    int version = j.getInteger("format_version", -1);
    if (version != FORMAT_VERSION) {
      throw new IllegalArgumentException("report format_version " + version + " is not " + FORMAT_VERSION);
    }
    JsonObject m = j.getJsonObject("machine");
    Report.Machine machine = new Report.Machine(m.getInteger("cores"), m.getString("jdk"), m.getString("os"),
        m.getString("arch"), m.getLong("max_heap_bytes"));
    List<Report.PhaseReport> phases = new ArrayList<>();
    for (Object po : j.getJsonArray("phases")) {
      JsonObject p = (JsonObject) po;
      List<Report.OpReport> ops = new ArrayList<>();
      for (Object oo : p.getJsonArray("ops")) {
        JsonObject o = (JsonObject) oo;
        ops.add(new Report.OpReport(
            o.getString("op"),
            o.getLong("sent"),
            o.getLong("ok"),
            o.getLong("errors"),
            o.getDouble("throughput_per_s"),
            latency(o.getJsonObject("latency_ms")),
            latency(o.getJsonObject("error_latency_ms")),
            counts(o.getJsonObject("errors_by_code")),
            counts(o.getJsonObject("errors_by_status")),
            o.getDouble("recall")));
      }
      phases.add(new Report.PhaseReport(p.getString("name"), p.getDouble("duration_s"),
          p.getDouble("offered_rate_per_s"), ops, plainMap(p.getJsonObject("extra"))));
    }
    return new Report(j.getString("scenario"), j.getString("started_at"), plainMap(j.getJsonObject("parameters")),
        machine, phases, plainMap(j.getJsonObject("checks")), j.getBoolean("passed"));
  }

  public static void write(Report r, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, toJson(r).encodePrettily() + "\n", StandardCharsets.UTF_8);
  }

  public static Report read(Path file) throws IOException {
    return fromJson(new JsonObject(Files.readString(file, StandardCharsets.UTF_8)));
  }

  /** Prints the summary table: one block per phase, one row per operation, then the checks. */
  public static void printTable(Report r, PrintWriter out) {
    out.printf(Locale.ROOT, "scenario %s  started %s  client %d cores, JDK %s%n", r.scenario(), r.startedAt(),
        r.machine().cores(), r.machine().jdk());
    for (Report.PhaseReport p : r.phases()) {
      out.printf(Locale.ROOT, "%n== %s  (%.1f s%s)%n", p.name(), p.durationSeconds(),
          p.offeredRate() == null ? ", closed loop" : String.format(Locale.ROOT, ", offered %.0f/s", p.offeredRate()));
      out.printf(Locale.ROOT, "%-10s %9s %9s %8s %10s %9s %9s %9s %9s %9s %7s%n",
          "op", "sent", "ok", "errors", "ok/s", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "recall");
      for (Report.OpReport o : p.ops()) {
        Report.LatencySummary l = o.latency();
        out.printf(Locale.ROOT, "%-10s %9d %9d %8d %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f %7s%n",
            o.op(), o.sent(), o.ok(), o.errors(), o.throughput(), l.p50Ms(), l.p95Ms(), l.p99Ms(), l.p999Ms(),
            l.maxMs(), o.recall() == null ? "-" : String.format(Locale.ROOT, "%.4f", o.recall()));
        if (o.errors() > 0) {
          out.printf(Locale.ROOT, "%-10s errors by code %s, by status %s, error p50 %.2f ms p99 %.2f ms%n", "",
              o.errorsByCode(), o.errorsByStatus(), o.errorLatency().p50Ms(), o.errorLatency().p99Ms());
        }
      }
      if (!p.extra().isEmpty()) {
        out.printf(Locale.ROOT, "%-10s %s%n", "", p.extra());
      }
    }
    if (!r.checks().isEmpty()) {
      out.printf(Locale.ROOT, "%nchecks %s%n", new TreeMap<>(r.checks()));
    }
    out.printf(Locale.ROOT, "result %s%n", r.passed() ? "PASSED" : "FAILED");
    out.flush();
  }

  private static JsonObject latency(Report.LatencySummary l) {
    return new JsonObject()
        .put("count", l.count())
        .put("mean", l.meanMs())
        .put("p50", l.p50Ms())
        .put("p95", l.p95Ms())
        .put("p99", l.p99Ms())
        .put("p999", l.p999Ms())
        .put("max", l.maxMs());
  }

  private static Report.LatencySummary latency(JsonObject j) {
    return new Report.LatencySummary(j.getLong("count"), j.getDouble("mean"), j.getDouble("p50"),
        j.getDouble("p95"), j.getDouble("p99"), j.getDouble("p999"), j.getDouble("max"));
  }

  private static Map<String, Long> counts(JsonObject j) {
    Map<String, Long> out = new TreeMap<>();
    j.forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).longValue()));
    return out;
  }

  private static Map<String, Object> plainMap(JsonObject j) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (j != null) {
      j.forEach(e -> out.put(e.getKey(), plain(e.getValue())));
    }
    return out;
  }

  private static Object plain(Object v) {
    if (v instanceof JsonObject o) {
      return plainMap(o);
    }
    if (v instanceof JsonArray a) {
      List<Object> out = new ArrayList<>();
      a.forEach(x -> out.add(plain(x)));
      return out;
    }
    return v;
  }
}
