package dev.caravan.api;

/**
 * GET /api/jobs filters and position, as list_jobs.sql binds them (null = no filter). The cursor is
 * the (created_at, id) of the last job of the previous page, newest first.
 */
public record ListQuery(String status, String type, String lane, String group, Boolean deadLettered,
                        String afterCreatedAt, String afterId, int limit) {

    /** One more row than a page, to know whether there is a next page. */
    public int fetch() {
        return limit + 1;
    }
}
