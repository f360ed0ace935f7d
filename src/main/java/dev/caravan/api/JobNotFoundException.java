package dev.caravan.api;

/** 404: thrown by the API routes when a job id names no job. */
public final class JobNotFoundException extends RuntimeException {

    public JobNotFoundException(String message) {
        super(message, null, false, false);
    }
}
