package io.quiver.loadtest;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench ingest}: upserts the dataset in batches, by default exactly once (point i gets id i);
 * with --duration or --requests it keeps overwriting the same ids.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Upsert the dataset in batches and measure write throughput and latency.")
public final class IngestScenario extends ScenarioCommand {

  @Option(names = "--batch", defaultValue = "256", description = "Points per upsert request (default ${DEFAULT-VALUE}).")
  int batch;

  @Override
  protected void validate() {
    super.validate();
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be >= 1");
    }
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    Dataset d = dataset();
    ensureCollection(run, false);
    long batches = (d.size() + batch - 1) / batch;
    LoadDriver.Workload workload = Workloads.ingest(run.transport(), collection.name, d, batch);
    run.warmup(load.warmup, load.model(4), workload, load.maxInFlight);
    Report.PhaseReport phase = run.phase("ingest", load.model(4), load.limits(null, batches), workload, load.maxInFlight);
    Report.OpReport op = phase.op(Workloads.UPSERT);
    run.note("points_per_s", op == null ? 0.0 : op.throughput() * batch);
  }
}
