import React from 'react';
import { createRoot } from 'react-dom/client';
import { ThemeProvider } from '@aws-amplify/ui-react';
import '@aws-amplify/ui-react/styles.css';

import { App } from './App.jsx';

// StrictMode on purpose: in a development build React runs effects twice, the classic way
// an app creates two sessions per check. The page makes exactly one (see src/api.js).
createRoot(document.getElementById('root')).render(
  <React.StrictMode>
    <ThemeProvider>
      <App />
    </ThemeProvider>
  </React.StrictMode>,
);
