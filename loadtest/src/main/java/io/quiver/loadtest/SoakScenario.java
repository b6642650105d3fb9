package io.quiver.loadtest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench soak}: the mixed workload for a long, bounded --duration, reported in consecutive
 * windows so that drift (latency creeping up, throughput falling, errors appearing) is visible.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "The mixed workload for --duration (required, at most 7 days), one report phase per --window.")
public final class SoakScenario extends MixedScenario {

  static final Duration MAX_DURATION = Duration.ofDays(7);

  @Option(names = "--window", defaultValue = "60s", converter = DurationConverter.class,
      description = "Length of one reported window (default ${DEFAULT-VALUE}).")
  Duration window;

  @Override
  protected void validate() {
    super.validate();
    if (load.duration == null || load.duration.isZero()) {
      throw new IllegalArgumentException("soak needs --duration");
    }
    if (load.duration.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException("--duration is capped at " + MAX_DURATION.toDays() + " days for soak");
    }
    if (load.requests != null) {
      throw new IllegalArgumentException("soak is bounded by --duration; --requests is not used");
    }
    if (window.isZero()) {
      throw new IllegalArgumentException("--window must be > 0");
    }
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    LoadDriver.Workload workload = workload(run);
    List<Report.PhaseReport> windows = new ArrayList<>();
    long remaining = load.duration.toNanos();
    int w = 0;
    while (remaining > 0) {
      long len = Math.min(remaining, window.toNanos());
      windows.add(run.phase("window-" + (++w), load.model(8), new LoadDriver.Limits(len, 0), workload,
          load.maxInFlight, Map.of(), true));
      remaining -= len;
    }
    Report.PhaseReport first = windows.get(0);
    Report.PhaseReport last = windows.get(windows.size() - 1);
    for (Report.OpReport a : first.ops()) {
      Report.OpReport b = last.op(a.op());
      if (b != null && a.latency().p99Ms() > 0 && a.throughput() > 0) {
        run.note(a.op() + "_p99_last_over_first", b.latency().p99Ms() / a.latency().p99Ms());
        run.note(a.op() + "_throughput_last_over_first", b.throughput() / a.throughput());
      }
    }
    run.note("windows", windows.size());
  }
}
