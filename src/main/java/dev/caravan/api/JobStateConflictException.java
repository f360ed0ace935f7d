package dev.caravan.api;

/** 409: thrown by the API routes when a job's status does not allow what was asked. */
public final class JobStateConflictException extends RuntimeException {

    public JobStateConflictException(String message) {
        super(message, null, false, false);
    }
}
