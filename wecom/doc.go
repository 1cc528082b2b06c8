// Package wecom is gridbot's WeCom (企业微信) adapter: a self-built app
// (自建应用) through which staff are reached without WeChat's 48-hour window,
// and group robots (消息推送) that post a grid team's digest.
//
//   - Sender pushes notices as text cards (message/send) whose link opens the
//     same case page as in WeChat; it keeps WeCom's 30 messages per member per
//     minute and says which refusals a retry can cure.
//   - Callback is the app's callback URL (/wecom): signature first, bounded
//     bodies, replays refused, one effect per message; the commands staff send
//     in the app's chat go to the same staff desk as WeChat's.
//   - WebAuth is WeCom's web authorisation, so a case page opened from a card
//     knows its reader.
//   - Robot posts to group robot webhooks within their 20 messages a minute.
//
// It uses silenceper/wechat/v2 for WeCom's wire types (work/message,
// work/oauth) and its callback crypto (util), and makes its own HTTP calls
// with a timeout against a configurable API base, as package bot does for
// WeChat: the SDK's HTTP client is a process-wide global without one.
package wecom
