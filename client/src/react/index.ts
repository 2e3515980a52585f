export { ParleyProvider, useParley, useSession } from './ParleyContext';
export { createParleyStore, type ParleyState, type ParleyStore } from '../store/createParleyStore';
