package io.quiver.loadtest;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The option groups shared by the scenario subcommands, as picocli mixins. Plain holders: read once by
 * the command thread after parsing.
 */
public final class Options {

  private Options() {}

  /** Where to send requests and how. */
  public static final class Connection {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080",
        description = "Gateway base URL (its REST port; with --transport grpc its public gRPC port, e.g. "
            + "http://127.0.0.1:9090); the only address the tool sends requests to (default ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--api-key", defaultValue = "${env:QUIVER_API_KEY}",
        description = "API key sent as x-api-key (default: $QUIVER_API_KEY if set).")
    String apiKey;

    @Option(names = "--timeout", defaultValue = "5s", converter = DurationConverter.class,
        description = "Client-side timeout per request (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--connections", defaultValue = "32",
        description = "Connections in the pool: HTTP/1.1 for rest, HTTP/2 with one call each for grpc (default ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--transport", defaultValue = "rest",
        description = "Transport: rest (JSON) or grpc (quiver.v1, packed f32 vectors; search filters are not supported) "
            + "(default ${DEFAULT-VALUE}).")
    String transport;
  }

  /** How much load, for how long. */
  public static final class Load {
    @Option(names = "--rate",
        description = "Open loop: send R requests per second at scheduled times; latency counts from the intended send time.")
    Double rate;

    @Option(names = "--concurrency",
        description = "Closed loop: C requests in flight (default 8; ignored when --rate is given).")
    Integer concurrency;

    @Option(names = "--duration", converter = DurationConverter.class,
        description = "Stop sending after this long (e.g. 30s, 5m).")
    Duration duration;

    @Option(names = "--requests", description = "Stop after this many requests.")
    Long requests;

    @Option(names = "--warmup", defaultValue = "0s", converter = DurationConverter.class,
        description = "Run the measured workload this long first and discard its numbers (default ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--max-in-flight", defaultValue = "10000",
        description = "Open loop: beyond this many requests in flight, count sends as client_backlog errors (default ${DEFAULT-VALUE}).")
    long maxInFlight;

    LoadDriver.Model model(int defaultConcurrency) {
      if (rate != null) {
        return new LoadDriver.OpenLoop(rate);
      }
      return new LoadDriver.ClosedLoop(concurrency != null ? concurrency : defaultConcurrency);
    }

    /** The limits given, or {@code defaultDuration} when neither --duration nor --requests was. */
    LoadDriver.Limits limits(Duration defaultDuration, long defaultRequests) {
      long d = duration != null ? duration.toNanos() : 0;
      long n = requests != null ? requests : 0;
      if (d == 0 && n == 0) {
        d = defaultDuration != null ? defaultDuration.toNanos() : 0;
        n = defaultRequests;
      }
      return new LoadDriver.Limits(d, n);
    }
  }

  /** Which vectors. */
  public static final class Data {
    @Option(names = "--dataset", defaultValue = "synthetic",
        description = "synthetic or fashion-mnist (default ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--dataset-dir", defaultValue = "/usr/share/datasets/fashion-mnist",
        description = "Directory of the Fashion-MNIST IDX .gz files (default ${DEFAULT-VALUE}).")
    Path datasetDir;

    @Option(names = "--points", description = "Points to load (synthetic default 10000; fashion-mnist default all 60000).")
    Integer points;

    @Option(names = "--dim", defaultValue = "128", description = "Synthetic dimension (default ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--clusters", defaultValue = "16", description = "Synthetic clusters (default ${DEFAULT-VALUE}).")
    int clusters;

    @Option(names = "--seed", defaultValue = "42", description = "Synthetic seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--truth-cache",
        description = "Directory where the exact top-k of the queries is kept between runs (default: computed every run).")
    Path truthCache;

    @Option(names = "--queries", defaultValue = "1000",
        description = "Query vectors (and ground-truth entries) to use (default ${DEFAULT-VALUE}).")
    int queries;
  }

  /** Which collection and how to compare vectors. */
  public static final class Collection {
    @Option(names = "--collection", defaultValue = "bench", description = "Collection name (default ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--metric", defaultValue = "l2", description = "l2, dot or cosine (default ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--create", description = "Create the collection first (an existing one is kept).")
    boolean create;

    @Option(names = "--recreate", description = "Delete and create the collection first.")
    boolean recreate;

    @Option(names = "--partitions", description = "Partitions of the collection the bench creates (default: the "
        + "server's, 16; engine scenarios: 16). Each partition has its own ANN graph, so fewer, larger partitions "
        + "make ANN searches cheaper and rebalancing coarser.")
    Integer partitions;

    /** {@code --partitions}, or {@code fallback} when not given. */
    int partitionsOr(int fallback) {
      return partitions == null ? fallback : partitions;
    }
  }

  /** How to search. */
  public static final class Search {
    @Option(names = "--mode", defaultValue = "auto", description = "exact, ann or auto (default ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--k", defaultValue = "10", description = "Neighbours per query (default ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--filter", description = "Filter JSON, e.g. '{\"must\":[{\"field\":\"label\",\"value\":3}]}' (recall is not computed with a filter).")
    String filter;

    @Option(names = "--batch-queries", defaultValue = "0",
        description = "Send N queries per request to /search/topk/batch (default: single /search/topk).")
    int batchQueries;

    @Option(names = "--target-recall",
        description = "Sent as target_recall (ANN/auto search breadth); default: not sent, the server's default applies.")
    Float targetRecall;

    @Option(names = "--no-recall", description = "Skip the ground truth and recall@k.")
    boolean noRecall;

    @Option(names = "--prepare", description = "Create the collection and load the dataset before measuring (phase 'prepare').")
    boolean prepare;
  }

  /** Where results go. */
  public static final class Output {
    @Option(names = "--report", description = "Write the JSON report to this file.")
    Path report;

    @Option(names = "--quiet", description = "No progress line on stderr.")
    boolean quiet;

    @Option(names = "--threads", description = "Threads for the local ground truth (default: all cores).")
    Integer threads;
  }
}
