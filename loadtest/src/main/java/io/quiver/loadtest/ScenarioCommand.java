package io.quiver.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * The life cycle every scenario subcommand shares: start Vert.x and the transport, run the scenario,
 * print the summary table, write the JSON report, stop everything. Exit code 0 when every check passed,
 * 1 when one failed, 2 on bad usage or when the run could not happen.
 *
 * <p>A subclass is one scenario: it adds its own options and implements {@link #execute}. Not
 * thread-safe; picocli calls {@link #call} once on the command thread.
 */
public abstract class ScenarioCommand implements Callable<Integer> {

  private static final Pattern COLLECTION_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,255}");

  @Spec
  CommandSpec spec;

  @Mixin
  Options.Connection connection;

  @Mixin
  Options.Load load;

  @Mixin
  Options.Data data;

  @Mixin
  Options.Collection collection;

  @Mixin
  Options.Output output;

  private Dataset dataset;

  /** Runs the scenario; phases and checks go into {@code run}. */
  protected abstract void execute(BenchRun run) throws Exception;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      validate();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(4));
    Transport transport = null;
    try {
      transport = needsTransport() ? transport(vertx) : null;
      BenchRun run = new BenchRun(vertx, transport, System::nanoTime, output.quiet ? null : err);
      execute(run);
      Report report = run.report(spec.name(), parameters());
      ReportWriter.printTable(report, out);
      if (output.report != null) {
        ReportWriter.write(report, output.report);
        out.println("report written to " + output.report);
      }
      out.flush();
      return report.passed() ? 0 : 1;
    } catch (Exception e) {
      err.println("bench " + spec.name() + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()));
      err.flush();
      return 2;
    } finally {
      if (transport != null) {
        transport.close();
      }
      BenchRun.await(vertx.close());
    }
  }

  private Transport transport(Vertx vertx) {
    long timeoutMs = connection.timeout.toMillis();
    return "grpc".equals(connection.transport)
        ? new GrpcTransport(vertx, connection.url, connection.apiKey, timeoutMs, connection.connections)
        : new RestTransport(vertx, connection.url, connection.apiKey, timeoutMs, connection.connections);
  }

  /** False for scenarios that drive the engine in-process and send no request (their --url is unused). */
  protected boolean needsTransport() {
    return true;
  }

  /** Checks shared options; subclasses add their own and call super. */
  protected void validate() {
    if (!"rest".equals(connection.transport) && !"grpc".equals(connection.transport)) {
      throw new IllegalArgumentException("--transport must be rest or grpc, got " + connection.transport);
    }
    if (!COLLECTION_NAME.matcher(collection.name).matches()) {
      throw new IllegalArgumentException("--collection must match " + COLLECTION_NAME.pattern());
    }
    Metric.parse(collection.metric);
    if (load.rate != null && !(load.rate > 0)) {
      throw new IllegalArgumentException("--rate must be > 0");
    }
    if (load.concurrency != null && load.concurrency < 1) {
      throw new IllegalArgumentException("--concurrency must be >= 1");
    }
  }

  /** The dataset of the options, loaded once. */
  protected Dataset dataset() throws IOException {
    if (dataset == null) {
      dataset = switch (data.dataset.toLowerCase(Locale.ROOT)) {
        case "synthetic" -> Dataset.synthetic(data.points != null ? data.points : 10_000, data.dim, data.clusters,
            data.seed, data.queries);
        case "fashion-mnist" -> Dataset.fashionMnist(data.datasetDir, data.points != null ? data.points : 0,
            data.queries);
        default -> throw new IllegalArgumentException("--dataset must be synthetic or fashion-mnist, got " + data.dataset);
      };
      if (dataset.size() == 0) {
        throw new IllegalArgumentException("the dataset has no points");
      }
    }
    return dataset;
  }

  protected Metric metric() {
    return Metric.parse(collection.metric);
  }

  /** Exact top-k of every query, computed locally on all cores (or --threads). */
  protected GroundTruth groundTruth(int k) throws IOException {
    Dataset d = dataset();
    int threads = output.threads != null ? output.threads : Runtime.getRuntime().availableProcessors();
    return groundTruth(d, k, metric(), threads, data, output.quiet ? null : spec.commandLine().getErr());
  }

  /**
   * The exact top-k of {@code d}'s queries, read from {@code --truth-cache} when a file for the same
   * dataset, sizes, k and metric is there, else brute-forced (and saved there).
   */
  static GroundTruth groundTruth(Dataset d, int k, Metric metric, int threads, Options.Data data, PrintWriter log)
      throws IOException {
    Path cached = null;
    if (data.truthCache != null) {
      String seed = d.name().equals("synthetic") ? "-d" + data.dim + "-c" + data.clusters + "-s" + data.seed : "";
      cached = Files.createDirectories(data.truthCache).resolve(String.format(Locale.ROOT, "truth-%s%s-n%d-q%d-k%d-%s.bin",
          d.name(), seed, d.size(), d.queries().length, k, metric.name().toLowerCase(Locale.ROOT)));
      GroundTruth gt = GroundTruth.load(cached, d.queries().length, k);
      if (gt != null) {
        if (log != null) {
          log.printf(Locale.ROOT, "ground truth: read %s%n", cached);
        }
        return gt;
      }
    }
    long t0 = System.nanoTime();
    GroundTruth gt = GroundTruth.compute(d.base(), d.queries(), k, metric, threads);
    if (log != null) {
      log.printf(Locale.ROOT, "ground truth: %d queries x %d points, k=%d, %.1f s%n", d.queries().length,
          d.size(), k, (System.nanoTime() - t0) / 1e9);
    }
    if (cached != null) {
      gt.save(cached);
    }
    return gt;
  }

  /** How long set-up calls (collection create/delete) are retried while the cluster answers "try again". */
  static final long SETUP_RETRY_NANOS = TimeUnit.SECONDS.toNanos(60);

  /**
   * Creates (or re-creates) the collection when --create / --recreate / {@code force} asks for it. A
   * 503 or no answer (a shard still starting or being restarted, the coordinator changing) is retried
   * for up to a minute: API.md makes both safe to retry, and a refused create leaves nothing behind.
   */
  protected void ensureCollection(BenchRun run, boolean force) throws IOException {
    Transport t = run.transport();
    if (collection.recreate) {
      Reply r = retryUnavailable(() -> BenchRun.await(t.deleteCollection(collection.name)));
      if (!r.ok() && !"not_found".equals(r.code())) {
        throw new IOException("delete collection " + collection.name + " failed: " + r.status() + " " + r.code());
      }
    }
    if (collection.recreate || collection.create || force) {
      Reply r = retryUnavailable(() -> BenchRun.await(t.createCollection(collection.name, dataset().dimension(),
          collection.metric, collection.partitions)));
      if (!r.ok() && !"conflict".equals(r.code())) {
        throw new IOException("create collection " + collection.name + " failed: " + r.status() + " " + r.code());
      }
    }
  }

  /** One set-up request, blocking until its reply. */
  interface SetupCall {
    Reply get() throws IOException;
  }

  /** Repeats {@code call} while it answers 503 or nothing, for {@link #SETUP_RETRY_NANOS}; returns the last reply. */
  static Reply retryUnavailable(SetupCall call) throws IOException {
    long deadline = System.nanoTime() + SETUP_RETRY_NANOS;
    while (true) {
      Reply r = call.get();
      if (r.ok() || (r.status() != 503 && r.status() != 0) || System.nanoTime() > deadline) {
        return r;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(250); // back-off between attempts of a refused call, not a wait for a condition
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while retrying", e);
      }
    }
  }

  /** Loads the whole dataset once, closed loop, as the recorded phase "prepare". */
  protected void prepare(BenchRun run, int batch) throws IOException {
    ensureCollection(run, true);
    Dataset d = dataset();
    long batches = (d.size() + batch - 1) / batch;
    run.phase("prepare", new LoadDriver.ClosedLoop(4), new LoadDriver.Limits(0, batches),
        Workloads.ingest(run.transport(), collection.name, d, batch), load.maxInFlight);
  }

  protected Transport.SearchOptions searchOptions(Options.Search s) {
    return new Transport.SearchOptions(s.k, collection.metric, s.mode, s.filter, s.targetRecall);
  }

  /** Every option with its effective value (the API key is masked), for the report. */
  protected Map<String, Object> parameters() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (OptionSpec o : spec.options()) {
      if (o.usageHelp() || o.versionHelp()) {
        continue;
      }
      String name = o.longestName().replaceFirst("^-+", "");
      Object value = o.getValue();
      if ("api-key".equals(name)) {
        value = value == null ? null : "***";
      }
      out.put(name, value == null || value instanceof Number || value instanceof Boolean ? value : String.valueOf(value));
    }
    return out;
  }

  protected static Duration orDefault(Duration d, Duration dflt) {
    return d != null ? d : dflt;
  }

  static Path path(String s) {
    return Path.of(s);
  }
}
