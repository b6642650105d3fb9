package io.quiver.loadtest;

import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench mixed}: reads and writes together. Writes overwrite existing dataset points with their
 * own vectors, so the ground truth (and recall) stays valid while the index is being written.
 */
@Command(name = "mixed", mixinStandardHelpOptions = true,
    description = "Searches and upserts together (--write-ratio of the requests are writes).")
public class MixedScenario extends ScenarioCommand {

  @Mixin
  Options.Search search;

  @Option(names = "--write-ratio", defaultValue = "0.25", description = "Fraction of requests that are writes (default ${DEFAULT-VALUE}).")
  double writeRatio;

  @Option(names = "--batch", defaultValue = "1", description = "Points per write (default ${DEFAULT-VALUE}).")
  int batch;

  @Override
  protected void validate() {
    super.validate();
    if (writeRatio < 0 || writeRatio > 1) {
      throw new IllegalArgumentException("--write-ratio must be within [0, 1]");
    }
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be >= 1");
    }
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    run.phase("mixed", load.model(8), load.limits(Duration.ofSeconds(30), 0), workload(run), load.maxInFlight);
  }

  LoadDriver.Workload workload(BenchRun run) throws Exception {
    Dataset d = dataset();
    GroundTruth truth = search.noRecall || search.filter != null ? null : groundTruth(search.k);
    if (search.prepare) {
      prepare(run, 256);
    } else {
      ensureCollection(run, false);
    }
    LoadDriver.Workload reads = Workloads.search(run.transport(), collection.name, d, searchOptions(search),
        search.batchQueries, truth);
    LoadDriver.Workload writes = writes(run.transport(), d);
    LoadDriver.Workload mixed = Workloads.mix(writes, reads, writeRatio, data.seed);
    run.warmup(load.warmup, load.model(8), mixed, load.maxInFlight);
    return mixed;
  }

  // Request seq writes `batch` dataset points chosen from seq, each with its own vector.
  private LoadDriver.Workload writes(Transport t, Dataset d) {
    return seq -> {
      java.util.List<Transport.Point> points = new java.util.ArrayList<>(batch);
      for (int j = 0; j < batch; j++) {
        int i = (int) (Workloads.unitInterval(data.seed ^ 0x5DEECE66DL, seq * batch + j) * d.size());
        points.add(Workloads.point(d, i, i));
      }
      return new LoadDriver.Request(Workloads.UPSERT, t.upsert(collection.name, points));
    };
  }
}
