package io.quiver.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EarlyRecoveryTest {

  @Test
  void indexerRunsNothingUntilTheGateOpens() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    ExecutorService indexer = EarlyRecovery.indexerPool(0, gate);
    try {
      CountDownLatch ran = new CountDownLatch(1);
      indexer.execute(ran::countDown);
      assertThat(ran.await(300, TimeUnit.MILLISECONDS)).as("ran before the gate opened").isFalse();
      gate.countDown();
      assertThat(ran.await(10, TimeUnit.SECONDS)).as("ran once the gate opened").isTrue();
    } finally {
      indexer.shutdownNow();
    }
  }

  @Test
  void shutdownReleasesAnIndexerStillWaitingAtTheGate() throws Exception {
    ExecutorService indexer = EarlyRecovery.indexerPool(0, new CountDownLatch(1));
    indexer.shutdownNow();
    assertThat(indexer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }
}
