package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CallerTest {
  private static Vertx vertx;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() {
    vertx.close().await();
  }

  @Test
  void answersTimeoutWhenTheWorkOutlivesTheDeadline() {
    Caller caller = new Caller("t", "r", System.nanoTime() + 30_000_000);
    long start = System.nanoTime();
    Throwable t = caller.within(vertx, Promise.<String>promise().future())
        .transform(ar -> Future.succeededFuture(ar.cause())).await();
    assertThat(((QuiverException) t).code()).isEqualTo(ErrorCode.TIMEOUT);
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(2_000);
  }

  @Test
  void answersTimeoutAtOnceWhenTheDeadlineHasAlreadyPassed() {
    Caller caller = new Caller("t", "r", System.nanoTime() - 1);
    Future<String> f = caller.within(vertx, Promise.<String>promise().future());
    assertThat(f.failed()).isTrue();
    assertThat(((QuiverException) f.cause()).code()).isEqualTo(ErrorCode.TIMEOUT);
  }

  @Test
  void passesResultsAndFailuresThroughBeforeTheDeadline() {
    Caller caller = new Caller("t", "r", System.nanoTime() + 5_000_000_000L);
    Promise<String> p = Promise.promise();
    Future<String> f = caller.within(vertx, p.future());
    p.complete("done");
    assertThat(f.await()).isEqualTo("done");
    Future<String> failed = caller.within(vertx, Future.failedFuture(QuiverException.notFound("x")));
    assertThat(((QuiverException) failed.cause()).code()).isEqualTo(ErrorCode.NOT_FOUND);
  }
}
