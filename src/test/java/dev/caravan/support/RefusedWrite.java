package dev.caravan.support;

/**
 * The database refusing the first write that sets a job to a status, as a serialization failure (the
 * database's own trouble, SQLSTATE 40001): a trigger on the rows whose payload has
 * {@code "write_back": "refused once"}. Counts every such write, refused or not. Close to drop it.
 */
public final class RefusedWrite implements AutoCloseable {

    /** The payload member that marks a job whose write is refused once. */
    public static final String MARKER = "\"write_back\": \"refused once\"";

    private final Db db;

    private RefusedWrite(Db db) {
        this.db = db;
    }

    public static RefusedWrite toStatus(Db db, String status) {
        db.update("CREATE SEQUENCE refused_write_tries");
        db.update("CREATE FUNCTION refuse_first_write() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN IF nextval('refused_write_tries') = 1 THEN"
                + " RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END IF;"
                + " RETURN NEW; END $$");
        db.update("CREATE TRIGGER refuse_first_write BEFORE UPDATE ON job_queue FOR EACH ROW"
                + " WHEN (NEW.job_payload ->> 'write_back' = 'refused once' AND NEW.status = '" + status + "')"
                + " EXECUTE FUNCTION refuse_first_write()");
        return new RefusedWrite(db);
    }

    /** How many times the write was tried: the refused one and those after it. */
    public long tries() {
        return db.count("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM refused_write_tries");
    }

    @Override
    public void close() {
        db.update("DROP TRIGGER refuse_first_write ON job_queue");
        db.update("DROP FUNCTION refuse_first_write()");
        db.update("DROP SEQUENCE refused_write_tries");
    }
}
