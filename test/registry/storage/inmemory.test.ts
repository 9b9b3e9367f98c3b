import { InMemoryDriver } from '../../../registry/src/storage/driver/inmemory.js';
import { runDriverSuite } from './driver-suite.js';

runDriverSuite('inmemory', async () => ({ driver: new InMemoryDriver(), cleanup: async () => undefined }));
