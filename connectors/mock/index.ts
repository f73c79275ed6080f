/** Registers the development connectors `mockCallback` and `mockPassword` (Dex's test connectors). */
import { registerConnector } from '../../src/connector.js';
import { mockCallbackFactory } from './callback.js';
import { mockPasswordFactory } from './password.js';

registerConnector('mockCallback', mockCallbackFactory);
registerConnector('mockPassword', mockPasswordFactory);
