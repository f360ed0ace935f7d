package dev.caravan.api;

/** What the API answers to a refused request: status, JSON body, and Retry-After when it applies. */
public record ApiError(int status, String json, Integer retryAfter) {
}
