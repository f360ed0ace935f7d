package dev.caravan.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * Every /api call must carry one of the configured keys as {@code Authorization: Bearer <key>}.
 * With no key configured the API only listens on loopback (checked at start-up) and lets local
 * callers in.
 */
public final class ApiAuth {

    private final List<byte[]> keys;

    public ApiAuth(List<String> keys) {
        this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    public boolean isOpen() {
        return keys.isEmpty();
    }

    public void check(String authorization) {
        if (keys.isEmpty()) {
            return;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "UNAUTHORIZED", "Authorization", "send the API key as 'Authorization: Bearer <key>'");
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        for (byte[] key : keys) {
            if (MessageDigest.isEqual(key, given)) {
                return;
            }
        }
        throw new ApiException(401, "UNAUTHORIZED", "Authorization", "the API key is not valid");
    }
}
