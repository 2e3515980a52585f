import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { openFromNotification } from './openFromNotification';
import './styles.css';

// The service worker keeps the app shell for offline starts (production builds only).
if ('serviceWorker' in navigator && import.meta.env.PROD) void navigator.serviceWorker.register('/sw.js');
// A click on a push notification: the service worker names the page to show (see sw.js).
if ('serviceWorker' in navigator) navigator.serviceWorker.addEventListener('message', (event: MessageEvent<unknown>) => openFromNotification(event.data));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
