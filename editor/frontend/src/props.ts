/** Props every Django page passes in <script id="app-props">. */
export interface PageUser {
  username: string;
  is_staff: boolean;
}

export interface PageUrls {
  logout: string;
  api: string;
  flows: string;
  runs: string;
  [k: string]: string;
}

export interface PageProps {
  user?: PageUser;
  csrf_token?: string;
  urls?: PageUrls;
  [key: string]: unknown;
}

export const defaultUrls: PageUrls = { logout: '/accounts/logout/', api: '/api/', flows: '/flows/', runs: '/runs/' };
