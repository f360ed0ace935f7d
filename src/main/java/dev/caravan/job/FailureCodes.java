package dev.caravan.job;

/**
 * The codes a failed attempt is written with (error_details.code, and the {@code error.type} of a run's
 * span), in one place. Whether a code retries, snoozes or fails the job is said where the failure is
 * raised (its {@link FailureKind}); the README's table of errors says it for users.
 */
public final class FailureCodes {

    // the job itself
    /** The payload is not what the pipeline needs (a field missing, of the wrong type). */
    public static final String INVALID_PAYLOAD = "INVALID_PAYLOAD";
    /** No pipeline runs this job type. */
    public static final String UNKNOWN_JOB_TYPE = "UNKNOWN_JOB_TYPE";
    /** A pipeline said "retry" (RetryableJobFailure) without a code of its own. */
    public static final String RETRYABLE_FAILURE = "RETRYABLE_FAILURE";
    /** A pipeline said "do not retry" (PermanentJobFailure) without a code of its own. */
    public static final String PERMANENT_FAILURE = "PERMANENT_FAILURE";
    /** An exception nothing classified. */
    public static final String UNEXPECTED_ERROR = "UNEXPECTED_ERROR";
    /** The pipeline's result cannot be written as JSON. */
    public static final String RESULT_NOT_SERIALIZABLE = "RESULT_NOT_SERIALIZABLE";
    /** A result file cannot be written (a full disk). */
    public static final String IO_ERROR = "IO_ERROR";
    /** The job type's prompt files are missing. */
    public static final String PROMPT_MISSING = "PROMPT_MISSING";

    // what surrounds the job, when nothing more precise said what failed (FailureClassifier)
    /** The database failed under the job (a cut or refused connection, a restart, a deadlock): snoozed, no attempt spent. */
    public static final String DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE";
    /** A step of the pipeline timed out. */
    public static final String TIMEOUT = "TIMEOUT";
    /** A step could not connect. */
    public static final String CONNECTION_REFUSED = "CONNECTION_REFUSED";
    /** A step named a host that does not resolve. */
    public static final String UNKNOWN_HOST = "UNKNOWN_HOST";

    // written by statements, not by Java: named here so that the vocabulary has one list
    /** The job's heartbeat stopped (its worker died or hung): sql/reap_stale_jobs.sql. */
    public static final String HEARTBEAT_TIMEOUT = "HEARTBEAT_TIMEOUT";
    /** A job it depends on ended failed or cancelled: sql/fail_blocked_jobs.sql. */
    public static final String DEPENDENCY_FAILED = "DEPENDENCY_FAILED";

    // documents
    public static final String DOCUMENT_MISSING = "DOCUMENT_MISSING";
    public static final String DOCUMENT_NOT_FOUND = "DOCUMENT_NOT_FOUND";
    public static final String DOCUMENT_UNREADABLE = "DOCUMENT_UNREADABLE";
    public static final String DOCUMENT_UNSUPPORTED = "DOCUMENT_UNSUPPORTED";
    public static final String DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE";
    public static final String DOCUMENT_FETCH_FAILED = "DOCUMENT_FETCH_FAILED";
    /** A payload's path leaves the storage root. */
    public static final String PATH_OUTSIDE_STORAGE = "PATH_OUTSIDE_STORAGE";
    /** A payload's URL names, or resolves to, an internal address. */
    public static final String OUTBOUND_REFUSED = "OUTBOUND_REFUSED";

    // providers
    public static final String PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED";
    public static final String PROVIDER_REJECTED = "PROVIDER_REJECTED";
    public static final String PROVIDER_AUTH_FAILED = "PROVIDER_AUTH_FAILED";
    public static final String PROVIDER_REDIRECT = "PROVIDER_REDIRECT";
    public static final String PROVIDER_5XX = "PROVIDER_5XX";
    public static final String PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT";
    public static final String PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE";
    public static final String PROVIDER_BAD_RESPONSE = "PROVIDER_BAD_RESPONSE";
    public static final String PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED";
    public static final String PROVIDER_OVERLOADED = "PROVIDER_OVERLOADED";
    public static final String CIRCUIT_OPEN = "CIRCUIT_OPEN";
    public static final String BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED";
    /** 413, or a gateway answer over its limit. */
    public static final String TOO_LARGE = "TOO_LARGE";
    /** An answer over the provider's max-response-bytes. */
    public static final String RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE";
    public static final String OCR_REJECTED = "OCR_REJECTED";
    public static final String LLM_TRUNCATED = "LLM_TRUNCATED";
    public static final String LLM_REFUSED = "LLM_REFUSED";
    public static final String LLM_EMPTY_RESPONSE = "LLM_EMPTY_RESPONSE";
    public static final String LLM_INVALID_JSON = "LLM_INVALID_JSON";
    // the batch lane (a provider's Batch API)
    /** Not a failure: the request joined the batch lane and the job waits, deferred, for its batch. */
    public static final String BATCH_QUEUED = "BATCH_QUEUED";
    /** The batch expired (the provider's completion window passed) before this request was answered. */
    public static final String BATCH_EXPIRED = "BATCH_EXPIRED";
    /** The provider failed the batch (its input refused); its errors are in the message. */
    public static final String BATCH_FAILED = "BATCH_FAILED";
    /** The batch was cancelled at the provider before this request was answered. */
    public static final String BATCH_CANCELLED = "BATCH_CANCELLED";
    /** The batch ended without a line for this request, or with a line that carries an error and no response. */
    public static final String BATCH_LINE_MISSING = "BATCH_LINE_MISSING";
    public static final String BATCH_LINE_ERROR = "BATCH_LINE_ERROR";

    // the PDF gateway (seed 004's names)
    public static final String GW_4XX = "GW_4XX";
    public static final String GW_5XX = "GW_5XX";
    public static final String GW_TIMEOUT = "GW_TIMEOUT";
    public static final String GW_BAD_RESPONSE = "GW_BAD_RESPONSE";

    private FailureCodes() {
    }
}
