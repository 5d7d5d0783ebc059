export {
  createReceiver,
  frameFromSample,
  type ReceivedFrame,
  type Receiver,
  type ReceiverOptions,
} from './receiver.js';
