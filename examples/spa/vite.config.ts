import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `base: './'`: the built files work from any path and any origin (a static server, a CDN, or
// `leadq serve` beside the API).
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: false },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  preview: { host: '127.0.0.1', port: 4173, strictPort: false },
});
