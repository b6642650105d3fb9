package io.quiver.gateway;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Hand-made JWTs for tests: HS256, RS256, {@code alg: none}, with any claims. Stateless. */
final class Tokens {
  static final String SECRET = "test-secret-of-at-least-32-characters!!";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Tokens() {}

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }

  /** Claims for {@code tenant} with {@code scope} (space-separated), valid for an hour. */
  static JsonObject claims(String tenant, String scope) {
    return new JsonObject().put("sub", "test").put("tenant", tenant).put("scope", scope)
        .put("iat", nowSeconds()).put("exp", nowSeconds() + 3600);
  }

  static String hs256(JsonObject claims, String secret) {
    String signingInput = part(new JsonObject().put("alg", "HS256").put("typ", "JWT")) + "." + part(claims);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return signingInput + "." + B64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String rs256(JsonObject claims, KeyPair keys) {
    String signingInput = part(new JsonObject().put("alg", "RS256").put("typ", "JWT")) + "." + part(claims);
    try {
      Signature s = Signature.getInstance("SHA256withRSA");
      s.initSign(keys.getPrivate());
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An unsigned token: {@code alg: none} and an empty signature. */
  static String none(JsonObject claims) {
    return part(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + part(claims) + ".";
  }

  static KeyPair rsaKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String publicKeyPem(KeyPair keys) {
    return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(keys.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
  }

  private static String part(JsonObject o) {
    return B64.encodeToString(o.encode().getBytes(StandardCharsets.UTF_8));
  }
}
