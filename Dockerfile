FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY temporal-schedules ./temporal-schedules
COPY tsconfig.json ./
USER node
CMD ["npm", "run", "worker"]
