package io.quiver.loadtest;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench overload}: finds (or is given) the capacity, then offers open-loop load in steps up to
 * --max-factor times that capacity. Each step reports goodput (successful requests per second), how many
 * requests were shed (429 / 503 with rate_limited, resource_exhausted, overloaded, shard_unavailable)
 * and how fast the rejections came back: a system that sheds instead of queueing keeps goodput near
 * capacity and rejection latency low.
 */
@Command(name = "overload", mixinStandardHelpOptions = true,
    description = "Step open-loop load up to --max-factor x capacity; report goodput and rejection latency per step.")
public final class OverloadScenario extends ScenarioCommand {

  static final Set<String> SHED_CODES = Set.of("rate_limited", "resource_exhausted", "overloaded", "shard_unavailable");

  @Mixin
  Options.Search search;

  @Option(names = "--op", defaultValue = "search", description = "search or upsert (default ${DEFAULT-VALUE}).")
  String op;

  @Option(names = "--batch", defaultValue = "16", description = "Points per upsert with --op upsert (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--capacity", description = "Requests per second the target sustains; measured closed loop (--concurrency) when absent.")
  Double capacity;

  @Option(names = "--calibrate", defaultValue = "10s", converter = DurationConverter.class,
      description = "How long to measure the capacity (default ${DEFAULT-VALUE}).")
  Duration calibrate;

  @Option(names = "--max-factor", defaultValue = "5", description = "Highest load as a multiple of capacity (default ${DEFAULT-VALUE}).")
  double maxFactor;

  @Option(names = "--factor-step", defaultValue = "0.5", description = "Load factor increment per step (default ${DEFAULT-VALUE}).")
  double factorStep;

  @Option(names = "--step-duration", defaultValue = "10s", converter = DurationConverter.class,
      description = "Length of each step (default ${DEFAULT-VALUE}).")
  Duration stepDuration;

  @Override
  protected void validate() {
    super.validate();
    if (!op.equals("search") && !op.equals("upsert")) {
      throw new IllegalArgumentException("--op must be search or upsert");
    }
    if (!(factorStep > 0) || maxFactor < factorStep) {
      throw new IllegalArgumentException("need 0 < --factor-step <= --max-factor");
    }
    if (maxFactor / factorStep > 100) {
      throw new IllegalArgumentException("at most 100 steps (--max-factor / --factor-step)");
    }
    if (capacity != null && !(capacity > 0)) {
      throw new IllegalArgumentException("--capacity must be > 0");
    }
    if (load.rate != null) {
      throw new IllegalArgumentException("overload sets the rate itself; use --capacity");
    }
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    Dataset d = dataset();
    if (search.prepare) {
      prepare(run, 256);
    } else {
      ensureCollection(run, false);
    }
    LoadDriver.Workload workload = op.equals("upsert")
        ? Workloads.ingest(run.transport(), collection.name, d, batch)
        : Workloads.search(run.transport(), collection.name, d, searchOptions(search), search.batchQueries, null);
    String opName = op.equals("upsert") ? Workloads.UPSERT : (search.batchQueries > 0 ? Workloads.SEARCH_BATCH : Workloads.SEARCH);
    run.warmup(load.warmup, load.model(16), workload, load.maxInFlight);
    double cap;
    if (capacity != null) {
      cap = capacity;
    } else {
      Report.PhaseReport c = run.phase("calibrate", load.model(16), new LoadDriver.Limits(calibrate.toNanos(), 0),
          workload, load.maxInFlight);
      cap = c.op(opName) == null ? 0 : c.op(opName).throughput();
      if (!(cap > 0)) {
        throw new IllegalStateException("calibration measured no successful request; give --capacity");
      }
    }
    run.note("capacity_per_s", cap);
    double bestGoodput = 0;
    double lastGoodput = 0;
    int steps = (int) Math.round(maxFactor / factorStep);
    for (int s = 1; s <= steps; s++) {
      double factor = Math.min(maxFactor, s * factorStep);
      Map<String, Object> extra = new LinkedHashMap<>();
      extra.put("factor", factor);
      Report.PhaseReport p = run.phase(String.format(java.util.Locale.ROOT, "step-x%.2f", factor),
          new LoadDriver.OpenLoop(factor * cap), new LoadDriver.Limits(stepDuration.toNanos(), 0), workload,
          load.maxInFlight, extra, true);
      Report.OpReport o = p.op(opName);
      if (o != null) {
        long shed = o.errorsByCode().entrySet().stream().filter(e -> SHED_CODES.contains(e.getKey()))
            .mapToLong(Map.Entry::getValue).sum();
        extra.put("goodput_per_s", o.throughput());
        extra.put("shed", shed);
        extra.put("rejection_p50_ms", o.errorLatency().p50Ms());
        extra.put("rejection_p99_ms", o.errorLatency().p99Ms());
        bestGoodput = Math.max(bestGoodput, o.throughput());
        lastGoodput = o.throughput();
      }
    }
    run.note("best_goodput_per_s", bestGoodput);
    run.note("goodput_at_max_over_capacity", lastGoodput / cap);
  }
}
