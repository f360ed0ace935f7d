// Uses the generated client (./gen) to submit a job and read it back.
import { OpenAPI } from './gen/core/OpenAPI';
import { ApiService } from './gen/services/ApiService';
OpenAPI.TOKEN = process.env.CARAVAN_API_KEY || undefined;
OpenAPI.BASE = process.env.CARAVAN_URL || OpenAPI.BASE;
(async () => {
  const submitted = await ApiService.apiPostJob({ type: 'audit_cleanup', name: 'from a generated client', payload: { retention_days: 30 } } as any);
  console.log('submitted', JSON.stringify(submitted));
  for (let i = 0; i < 50; i++) {
    const job = await ApiService.apiGetOne(submitted.id!);
    if (job.status === 'completed') { console.log('read back', job.status, JSON.stringify(job.result)); return; }
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error('not completed');
})().catch(e => { console.error('FAILED', e); process.exit(1); });
