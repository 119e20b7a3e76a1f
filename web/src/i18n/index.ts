import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import enUS from './en-US'

export type Locale = 'zh-CN' | 'en-US'
export const locales: Locale[] = ['zh-CN', 'en-US']
export const LOCALE_KEY = 'shuzhi.locale'

// The value of <html lang>: BCP 47, Chinese stays zh-CN, English is plain en.
export const htmlLang: Record<Locale, string> = { 'zh-CN': 'zh-CN', 'en-US': 'en' }

export const messages = { 'zh-CN': zhCN, 'en-US': enUS }

export function savedLocale(): Locale {
  try {
    const v = localStorage.getItem(LOCALE_KEY)
    if (v && (locales as string[]).includes(v)) return v as Locale
  } catch {
    // storage unavailable: use the default
  }
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'zh-CN',
  messages,
})

export function setLocale(l: Locale) {
  i18n.global.locale.value = l
  document.documentElement.lang = htmlLang[l]
  try {
    localStorage.setItem(LOCALE_KEY, l)
  } catch {
    // not persisted: fine
  }
}
