--- Neovim 0.12+: `vim.lsp.inline_completion` draws and accepts; tierline adds keymaps,
--- partial accepts and escalation on top.
local M = {}

local function ic()
  return vim.lsp.inline_completion
end

function M.attach(client, bufnr)
  pcall(ic().enable, true, { bufnr = bufnr, client_id = client.id })
end

function M.detach(bufnr)
  pcall(ic().enable, false, { bufnr = bufnr })
end

--- Insert the start of the item's text at the cursor (for accept_word / accept_line).
local function insert_piece(item, what)
  local text = item.insert_text or item.insertText
  if type(text) == "table" then
    text = text.value
  end
  if type(text) ~= "string" then
    return false
  end
  local piece
  if what == "word" then
    piece = text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text
  else
    piece = text:sub(1, 1) == "\n" and text:match("^\n[^\n]*") or text:match("^[^\n]*")
  end
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local lines = vim.split(piece, "\n", { plain = true })
  vim.api.nvim_buf_set_text(0, row - 1, col, row - 1, col, lines)
  vim.api.nvim_win_set_cursor(0, { row - 1 + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  return piece
end

--- A partial accept replaces Neovim's own (which would run the item's command): report it with
--- `{kind, chars}` (docs/acceptance.md).
local function report_partial(item, what, piece)
  local command = item.command
  if not piece or type(command) ~= "table" or command.command ~= "tierline.accepted" then
    return
  end
  local arguments = vim.deepcopy(command.arguments or {})
  arguments[#arguments + 1] = { kind = what, chars = vim.fn.strchars(piece) }
  pcall(require("tierline.lsp").execute, command.command, arguments, function() end)
end

---@param what? "all"|"word"|"line"
function M.accept(what)
  local opts = {}
  if what == "word" or what == "line" then
    opts.on_accept = function(item)
      report_partial(item, what, insert_piece(item, what))
    end
  end
  local ok, accepted = pcall(ic().get, opts)
  return ok and accepted == true
end

function M.is_visible()
  -- 0.12 has no query for "is a candidate shown"; the namespace's extmarks tell.
  local ok, ns = pcall(vim.api.nvim_get_namespaces)
  ns = ok and ns["nvim.lsp.inline_completion"]
  if not ns then
    return false
  end
  return #vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { limit = 1 }) > 0
end

function M.dismiss()
  if not M.is_visible() then
    return false
  end
  -- No public "dismiss": re-enabling drops the candidates and their extmark.
  local bufnr = vim.api.nvim_get_current_buf()
  pcall(ic().enable, false, { bufnr = bufnr })
  pcall(ic().enable, true, { bufnr = bufnr })
  return true
end

--- Neovim's own cycling through the items (`vim.lsp.inline_completion.select`); with nothing
--- shown, ask (trigger kind Invoked: alternatives near a tier boundary).
function M.cycle(delta)
  if not M.is_visible() or not ic().select then
    return M.trigger()
  end
  return pcall(ic().select, { count = delta })
end

function M.trigger()
  -- `get()` with nothing shown requests (trigger kind Invoked).
  pcall(ic().get, {})
end

return M
