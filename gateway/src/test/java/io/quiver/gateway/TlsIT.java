package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.proto.v1.ListCollectionsRequest;
import io.quiver.proto.v1.QuiverGrpcClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.grpc.common.GrpcStatus;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the public ports from PEM files (QUIVER_TLS_CERT / QUIVER_TLS_KEY), with a self-signed
 * certificate made by the JDK's keytool for 127.0.0.1: REST over HTTPS and gRPC over TLS (ALPN h2)
 * work for a client trusting it, and plain text is refused.
 */
class TlsIT {
  private static final char[] PASS = "changeit".toCharArray();
  @TempDir static Path dir;
  private static TestCluster cluster;
  private static GatewayVerticle gateway;
  private static Path certPem;
  private static SSLContext trusting;

  @BeforeAll
  static void start() throws Exception {
    Path p12 = dir.resolve("gateway.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "gateway", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
        "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", new String(PASS), "-keypass", new String(PASS))
        .redirectErrorStream(true).start();
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(p12.toFile())) {
      ks.load(in, PASS);
    }
    Certificate cert = ks.getCertificate("gateway");
    certPem = dir.resolve("cert.pem");
    Path keyPem = dir.resolve("key.pem");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    Files.writeString(keyPem, pem("PRIVATE KEY", ((PrivateKey) ks.getKey("gateway", PASS)).getEncoded()));

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("gateway", cert);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    trusting = SSLContext.getInstance("TLS");
    trusting.init(null, tmf.getTrustManagers(), null);

    cluster = TestCluster.start(1);
    gateway = cluster.gateway(new GatewayOptions().tlsCertPath(certPem.toString()).tlsKeyPath(keyPem.toString()));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void servesRestOverHttpsToAClientThatTrustsTheCertificate() {
    TestHttp https = TestHttp.tls(gateway.httpPort(), trusting);
    assertThat(https.post("/collections", new JsonObject().put("name", "tls").put("dimension", 2)).status()).isEqualTo(200);
    assertThat(https.get("/collections/tls").json().getString("name")).isEqualTo("tls");
  }

  @Test
  void servesGrpcOverTls() {
    HttpClientOptions tls = new HttpClientOptions().setSsl(true).setUseAlpn(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(certPem.toString()));
    try (TestGrpc grpc = new TestGrpc(cluster.vertx(), gateway.grpcPort(), tls)) {
      assertThat(grpc.call(QuiverGrpcClient.ListCollections, ListCollectionsRequest.getDefaultInstance()).status()).isEqualTo(GrpcStatus.OK);
    }
  }

  @Test
  void refusesPlainTextOnTheTlsPorts() {
    assertThatThrownBy(() -> new TestHttp(gateway.httpPort()).get("/collections")).isInstanceOf(RuntimeException.class);
    try (TestGrpc plain = new TestGrpc(cluster.vertx(), gateway.grpcPort())) {
      assertThat(plain.call(QuiverGrpcClient.ListCollections, ListCollectionsRequest.getDefaultInstance(), 2_000).status())
          .isNotEqualTo(GrpcStatus.OK);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
