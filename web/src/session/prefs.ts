// Display preferences kept in localStorage: elder-friendly mode (适老化).
import { ref } from 'vue'

export const ELDER_KEY = 'shuzhi.elder'
export const ELDER_CLASS = 'elder'

function saved(): boolean {
  try {
    return localStorage.getItem(ELDER_KEY) === '1'
  } catch {
    return false
  }
}

export const elderMode = ref(saved())

export function applyElderMode(on: boolean) {
  elderMode.value = on
  document.documentElement.classList.toggle(ELDER_CLASS, on)
  try {
    localStorage.setItem(ELDER_KEY, on ? '1' : '0')
  } catch {
    // not persisted: fine
  }
}
