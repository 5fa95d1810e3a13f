// The three instances (China, Mali as the default, the system number for OTPs), as WACHAP_INSTANCES
// lists them: what the instance tests run the stack and the sandbox with.
import { type WaChapInstance, wachapInstancesSchema } from '../../shared/domain/wachap-instances.js';

export const THREE_INSTANCES: WaChapInstance[] = wachapInstancesSchema.parse([
  { name: 'china', instanceId: 'CN0001', accessToken: 'cn-access-token', prefixes: ['+86'] },
  { name: 'mali', instanceId: 'ML0001', accessToken: 'ml-access-token', prefixes: ['+223'], default: true },
  { name: 'system', instanceId: 'SY0001', accessToken: 'sy-access-token', role: 'system' },
]);

export const chinesePhone = (index: number): string => `+86138001380${String(10 + index)}`;
