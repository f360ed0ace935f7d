-- Whether a job exists, and its status: tells 404 from 409 when cancel or retry changed nothing.
SELECT status FROM job_queue WHERE id = :#${variable.jobId}
