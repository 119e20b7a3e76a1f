// The signed-in user, shared by the whole app.
import { reactive } from 'vue'
import { api, ApiError } from '@/api/client'
import type { LoginReply, Me, Meta } from '@/api/types'

export const session = reactive<{ me: Me | null; checked: boolean; meta: Meta | null }>({
  me: null,
  checked: false,
  meta: null,
})

// Asks the server who is signed in, once; 401 simply means nobody.
export async function ensureSession(): Promise<Me | null> {
  if (session.checked) return session.me
  try {
    session.me = await api.get<Me>('/auth/me', { silent: true, no401Redirect: true })
  } catch (e) {
    if (!(e instanceof ApiError)) throw e
    session.me = null
  }
  session.checked = true
  return session.me
}

export async function login(username: string, password: string): Promise<Me> {
  const reply = await api.post<LoginReply>('/auth/login', { username, password }, { silent: true, no401Redirect: true })
  session.me = reply.user
  session.checked = true
  return reply.user
}

export async function logout(): Promise<void> {
  try {
    await api.post('/auth/logout', undefined, { silent: true, no401Redirect: true })
  } finally {
    forget()
  }
}

export function forget() {
  session.me = null
  session.checked = true
}

export async function loadMeta(): Promise<Meta | null> {
  if (session.meta) return session.meta
  try {
    session.meta = await api.get<Meta>('/meta', { silent: true, no401Redirect: true })
  } catch {
    session.meta = null
  }
  return session.meta
}
