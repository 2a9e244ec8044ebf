import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Build contract (Django templates rely on it): static/editor/app.js + app.css, fixed names.
export default defineConfig({
  plugins: [react()],
  base: '/static/editor/',
  build: {
    outDir: '../../static/editor',
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: 'src/main.tsx',
      output: {
        entryFileNames: 'app.js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        assetFileNames: (info) => {
          const n = (info as { names?: string[]; name?: string }).names?.[0] ?? (info as { name?: string }).name ?? '';
          return n.endsWith('.css') ? 'app.css' : 'assets/[name]-[hash][extname]';
        },
      },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
