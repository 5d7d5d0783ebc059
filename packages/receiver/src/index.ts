export {
  createReceiver,
  type Receiver,
  type ReceiverEvent,
  type ReceiverInstruction,
  type ReceiverOptions,
  type ReceiverResult,
  rawFrameFromSample,
} from './receiver.js';
export { createY4mWriter, type Y4mWriter } from './y4mWriter.js';
