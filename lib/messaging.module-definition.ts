import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MessagingModuleOptions } from './messaging.options.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<MessagingModuleOptions>({ moduleName: 'Messaging' })
    .setClassMethodName('forRoot')
    // name: a further connection (MessagingModule.forRoot turns the definition into its module); known before any factory runs
    .setExtras({ isGlobal: true, name: undefined as string | undefined }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();
