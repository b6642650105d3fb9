package io.quiver.loadtest;

import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code bench search}: top-k queries (single or batched) with recall@k against a locally computed
 * exact ground truth. Expects the collection to hold the same dataset (use --prepare to load it).
 */
@Command(name = "search", mixinStandardHelpOptions = true,
    description = "Measure top-k search latency, throughput and recall@k.")
public final class SearchScenario extends ScenarioCommand {

  @Mixin
  Options.Search search;

  @Override
  protected void validate() {
    super.validate();
    if (search.k < 1) {
      throw new IllegalArgumentException("--k must be >= 1");
    }
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    Dataset d = dataset();
    GroundTruth truth = search.noRecall || search.filter != null ? null : groundTruth(search.k);
    if (search.prepare) {
      prepare(run, 256);
    } else {
      ensureCollection(run, false);
    }
    LoadDriver.Workload workload = Workloads.search(run.transport(), collection.name, d, searchOptions(search),
        search.batchQueries, truth);
    run.warmup(load.warmup, load.model(8), workload, load.maxInFlight);
    run.phase("search", load.model(8), load.limits(Duration.ofSeconds(30), 0), workload, load.maxInFlight);
    if (truth == null) {
      run.note("recall", search.filter != null ? "not computed: --filter" : "not computed: --no-recall");
    }
  }
}
