package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InFlightLimitTest {

  @Test
  void neverAdmitsMoreThanMaxUnderConcurrentEntersAndReleasesAndEndsEmpty() throws Exception {
    InFlightLimit limit = new InFlightLimit(8);
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger highest = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      threads.add(Thread.ofPlatform().start(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        List<InFlightLimit.Permit> held = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
          InFlightLimit.Permit p = limit.tryEnter();
          if (p == null) {
            refused.incrementAndGet();
          } else {
            highest.accumulateAndGet(holding.incrementAndGet(), Math::max);
            held.add(p);
          }
          if (held.size() > 1 || (p == null && !held.isEmpty())) {
            holding.decrementAndGet();
            InFlightLimit.Permit r = held.remove(0);
            r.release();
            r.release();
          }
        }
        held.forEach(p -> {
          holding.decrementAndGet();
          p.release();
        });
      }));
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(highest.get()).isLessThanOrEqualTo(8);
    assertThat(refused.get()).as("8 threads holding up to 2 each must hit the limit").isPositive();
    assertThat(limit.inFlight()).isZero();
  }

  @Test
  void zeroMeansCountingWithoutALimit() {
    InFlightLimit limit = new InFlightLimit(0);
    for (int i = 0; i < 10_000; i++) {
      assertThat(limit.tryEnter()).isNotNull();
    }
    assertThat(limit.inFlight()).isEqualTo(10_000);
    assertThatThrownBy(() -> new InFlightLimit(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultLimitShedsBeforeTheOldQueueOfAThousand() {
    assertThat(new GatewayOptions().maxInFlight()).isEqualTo(GatewayOptions.DEFAULT_MAX_IN_FLIGHT).isEqualTo(64);
  }
}
